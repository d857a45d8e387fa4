// Live batch progress: polls the status JSON and redraws counts, bar, ETA and file states.
(function () {
  "use strict";
  const box = document.getElementById("batch");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const colors = { done: "#2e9e4f", duplicate: "#7aa7d8", junk: "#bbb", failed: "#d9534f",
                   queued: "#f0ad4e", uploading: "#fc4c02", processing: "#fc8c52", received: "#ddd" };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function draw(s) {
    const bar = document.getElementById("batch-bar");
    bar.replaceChildren();
    Object.entries(s.counts).forEach(([state, n]) => {
      const span = el("span");
      span.style.width = `${(100 * n) / Math.max(1, s.total)}%`;
      span.style.background = colors[state] || "#999";
      span.title = `${n} ${state}`;
      bar.appendChild(span);
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
      tr.appendChild(el("td", f.file));
      tr.appendChild(el("td", f.recorded, "recorded"));
      tr.appendChild(el("td", f.status, `state state-${f.status}`));
      tr.appendChild(el("td", f.reason));
      const link = el("td");
      if (f.activity_id) {
        const a = el("a", `activity ${f.activity_id}`);
        a.href = `https://www.strava.com/activities/${f.activity_id}`;
        link.appendChild(a);
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
