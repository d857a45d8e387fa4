// "Sync now" in place: POST /api/sync/ and show the run's counts and Strava's quota without a reload.
// Without JavaScript (or when the API answers something that is not its JSON) the form posts to the
// page view instead, which answers with a message and a redirect back here.
(function () {
  "use strict";
  const form = document.getElementById("sync-now-form");
  if (!form || !window.fetch) return;
  const box = document.getElementById("sync-now-result");
  const button = form.querySelector("button");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function line(text, cls) {
    const p = document.createElement("p");
    p.textContent = text;
    if (cls) p.className = cls;
    return p;
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${s % 60} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function quota(rl) {
    const o = rl.overall, r = rl.read;
    return `Strava's allowance: ${o.window.used} of ${o.window.limit} calls this 15 minutes ` +
      `(${r.window.remaining} reads left), resets in ${duration(rl.window_resets_in)}; ` +
      `${o.daily.used} of ${o.daily.limit} today (${r.daily.remaining} reads left), ` +
      `resets in ${duration(rl.day_resets_in)}.`;
  }

  function show(body) {
    const parts = [];
    if (body.ok) {
      const more = body.complete ? "" : " More follow in the background.";
      parts.push(line(`Pulled ${plural(body.new, "new activity", "new activities")} and ${body.updated} updated ` +
        `(${plural(body.pages, "page", "pages")}, ${plural(body.calls, "Strava call", "Strava calls")}).${more}`,
        "sync-counts"));
      const count = document.getElementById("activity-count");
      if (count) {
        const n = Number(count.dataset.count) + body.new;
        count.dataset.count = String(n);
        count.textContent = plural(n, "activity", "activities");
      }
    } else {
      parts.push(line(body.detail, "sync-refused warn"));
    }
    if (body.rate_limit) parts.push(line(quota(body.rate_limit), "sync-quota"));
    box.replaceChildren(...parts);
    box.dataset.state = body.ok ? "done" : body.reason;
    box.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    box.hidden = false;
    box.dataset.state = "running";
    box.replaceChildren(line("Syncing…"));
    let body = null;
    try {
      const response = await fetch(form.dataset.api, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
      if ((response.headers.get("Content-Type") || "").startsWith("application/json")) body = await response.json();
    } catch (error) {
      body = null;
    } finally {
      button.disabled = false;
    }
    if (body && typeof body.ok === "boolean") {
      show(body);
    } else {
      form.submit(); // the plain POST: the page view says what happened
    }
  });
})();
