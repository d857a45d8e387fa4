// Sends the chosen files to a new batch in several requests (so each stays within the
// server's per-request limits), shows the browser's send progress, then opens the batch page.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file-input");
  const zone = document.getElementById("dropzone");
  const config = JSON.parse(document.getElementById("upload-config").textContent);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let chosen = [];

  function describe() {
    const bytes = chosen.reduce((n, f) => n + f.size, 0);
    document.getElementById("selection").textContent =
      chosen.length ? `${chosen.length} file(s), ${(bytes / 1048576).toFixed(1)} MB` : "";
  }
  input.addEventListener("change", () => { chosen = Array.from(input.files); describe(); });
  // Files chosen before this script ran (a fast hand, or a browser restoring the form on Back) fired
  // their change event before anyone listened: take them as they are.
  if (input.files.length) { chosen = Array.from(input.files); describe(); }
  ["dragenter", "dragover"].forEach((e) => zone.addEventListener(e, (ev) => { ev.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((e) => zone.addEventListener(e, (ev) => { ev.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (ev) => { chosen = chosen.concat(Array.from(ev.dataTransfer.files)); describe(); });

  function groups(files) {
    const out = [];
    let current = [], size = 0;
    for (const f of files) {
      if (current.length && (current.length >= config.maxFiles || size + f.size > config.maxRequestBytes)) {
        out.push(current); current = []; size = 0;
      }
      current.push(f); size += f.size;
    }
    if (current.length) out.push(current);
    return out;
  }

  function send(url, files, sentBefore, total) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      files.forEach((f) => data.append("files", f, f.name));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = (ev) => {
        const done = sentBefore + ev.loaded;
        document.getElementById("progress-bar").style.width = `${Math.min(100, (100 * done) / total)}%`;
        document.getElementById("progress-text").textContent =
          `sending ${(done / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MB`;
      };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new Error(body.error || `the server answered ${xhr.status}`));
      };
      xhr.onerror = () => reject(new Error("the connection failed"));
      xhr.send(data);
    });
  }

  function reject(file, reason) {
    const li = document.createElement("li");
    li.className = "rejected";
    li.textContent = `${file}: ${reason}`;
    document.getElementById("rejections").appendChild(li);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!chosen.length) return;
    document.getElementById("start-upload").disabled = true;
    document.getElementById("progress").hidden = false;
    const choice = new FormData();  // only the send choice: the files follow in their own requests
    choice.append("send", (form.querySelector('input[name="send"]:checked') || { value: "yes" }).value);
    const batch = await fetch(form.action, { method: "POST", headers: { "X-CSRFToken": csrf }, body: choice }).then((r) => r.json());
    const total = chosen.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    for (const group of groups(chosen)) {
      try {
        const body = await send(`/uploads/batches/${batch.id}/files/`, group, sent, total);
        (body.files || []).filter((f) => f.status === "failed").forEach((f) => reject(f.file, f.reason));
      } catch (err) {
        group.forEach((f) => reject(f.name, err.message));
      }
      sent += group.reduce((n, f) => n + f.size, 0);
    }
    window.location = batch.url;
  });
})();
