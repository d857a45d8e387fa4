// Live batch progress: polls the status JSON and redraws counts, bar, ETA and file states.
(function () {
  "use strict";
  const box = document.getElementById("batch");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const colors = { done: "#2e9e4f", duplicate: "#7aa7d8", junk: "#bbb", failed: "#d9534f",
                   queued: "#f0ad4e", uploading: "#fc4c02", processing: "#fc8c52", received: "#ddd" };
  // What each colour of the bar means, in words, in the bar's order.
  const meanings = { done: "on Strava", duplicate: "already on Strava", junk: "not an activity",
                     failed: "failed", queued: "waiting for the quota", uploading: "being sent",
                     processing: "Strava is processing", received: "being read" };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // The reason in words; the stored technical reason one click away (as the server-drawn table does).
  function reasonCell(f) {
    const td = el("td", undefined, "wrap-anywhere");
    if (!f.reason_detail) {
      td.appendChild(el("span", f.reason_words, "reason"));
      return td;
    }
    const details = el("details", undefined, "reason");
    details.append(el("summary", f.reason_words), el("code", f.reason_detail));
    td.appendChild(details);
    return td;
  }

  function draw(s) {
    const bar = document.getElementById("batch-bar");
    bar.replaceChildren();
    Object.keys(colors).filter((state) => s.counts[state]).map((state) => [state, s.counts[state]]).forEach(([state, n]) => {
      const span = el("span");
      span.style.width = `${(100 * n) / Math.max(1, s.total)}%`;
      span.style.background = colors[state] || "#999";
      span.title = `${n} ${state}`;
      bar.appendChild(span);
    });
    const legend = document.getElementById("batch-legend");
    legend.replaceChildren();
    Object.keys(colors).filter((state) => s.counts[state]).forEach((state) => {
      const item = el("li");
      item.dataset.state = state;
      const swatch = el("span", undefined, "swatch");
      swatch.style.background = colors[state];
      item.append(swatch, `${s.counts[state]} ${state} (${meanings[state]})`);
      legend.appendChild(item);
    });
    const parts = Object.entries(s.counts).map(([k, v]) => `${v} ${k}`).join(", ");
    document.getElementById("batch-summary").textContent =
      `${s.settled} of ${s.total} settled${s.finished ? " — finished" : ""}: ${parts}. ${s.api_calls} Strava calls spent.`;
    document.getElementById("batch-summary").dataset.finished = s.finished ? "1" : "0";
    document.getElementById("batch-eta").textContent = s.finished ? "" :
      (s.eta_seconds > 0 ? `Estimated time to finish: ${Math.ceil(s.eta_seconds / 60)} min (Strava's API quota is shared by every athlete here).`
                         : "Sending now…");
    const body = document.querySelector("#batch-files tbody");
    body.replaceChildren();
    s.files.forEach((f) => {
      const tr = el("tr");
      tr.dataset.id = f.id;
      tr.appendChild(el("td", f.file, "wrap-anywhere"));
      tr.appendChild(el("td", f.recorded, "recorded"));
      tr.appendChild(el("td", f.status, `state state-${f.status}`));
      tr.appendChild(reasonCell(f));
      const link = el("td");
      if (f.activity_url) {
        const a = el("a", `activity ${f.activity_id}`);
        a.href = f.activity_url;  // Strava's page, or ours in sandbox mode (the server decides)
        link.appendChild(a);
      } else if (f.activity_id) {
        link.textContent = `activity ${f.activity_id}`;
      }
      tr.appendChild(link);
      const action = el("td");
      // Retry where another try can end otherwise; "Upload anyway" for junk; nothing for unreadable files.
      const choice = f.retry ? ["retry", "retry", "Retry"] : f.upload_anyway ? ["upload-anyway", "upload-anyway", "Upload anyway"] : null;
      if (choice) {
        const form = el("form");
        form.method = "post";
        form.action = `/uploads/files/${f.id}/${choice[0]}/`;
        form.innerHTML = `<input type="hidden" name="csrfmiddlewaretoken"><input type="hidden" name="next"><button type="submit" class="${choice[1]}">${choice[2]}</button>`;
        form.querySelector("[name=csrfmiddlewaretoken]").value = csrf;
        form.querySelector("[name=next]").value = window.location.pathname;
        action.appendChild(form);
      }
      tr.appendChild(action);
      body.appendChild(tr);
    });
    return s.finished;
  }

  async function poll() {
    try {
      const s = await fetch(box.dataset.statusUrl, { credentials: "same-origin" }).then((r) => r.json());
      draw(s);
      setTimeout(poll, s.finished ? 10000 : 1500);
    } catch (e) {
      setTimeout(poll, 5000);
    }
  }
  poll();
})();
