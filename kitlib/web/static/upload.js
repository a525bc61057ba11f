// Staff upload: each file is its own POST to /api/resources over XMLHttpRequest, because
// only XHR reports upload progress (fetch has no upload progress events). Each row shows a
// real progress bar, a cancel button and the server's own message when it refuses a file.
// Without this file the form posts to /staff/upload and the server answers with a redirect.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file");
  const zone = document.getElementById("drop-zone");
  const queue = document.getElementById("upload-queue");
  const rowTemplate = document.getElementById("upload-row");
  const texts = document.getElementById("upload-texts").dataset;

  // Without this script the form sends one resource and needs its title; with it, each file
  // is its own resource, titled by its name unless a title is given.
  form.elements.title.required = false;
  document.getElementById("title-help").hidden = false;

  function fill(text, name) { return text.replace("{name}", name); }

  function kindFor(file) {
    const chosen = form.elements.kind.value;
    if (chosen === "document" && /^(video|audio)\//.test(file.type)) return "recording";
    return chosen;
  }

  function upload(file, title) {
    document.getElementById("queue-section").hidden = false;
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    const bar = row.querySelector("progress");
    const percent = row.querySelector(".percent");
    const message = row.querySelector(".message");
    const cancel = row.querySelector(".cancel");
    row.querySelector(".name").textContent = file.name;
    bar.setAttribute("aria-label", file.name);
    cancel.setAttribute("aria-label", fill(texts.cancelLabel, file.name));
    queue.appendChild(row);

    function finish(text, state) {
      cancel.hidden = true;
      row.dataset.state = state;
      message.textContent = text;
    }
    if (file.size > parseInt(form.dataset.maxSize, 10)) {
      finish(fill(texts.tooBig, file.name), "refused");
      return;
    }
    const data = new FormData();
    // The token first: the server checks it before it writes a byte of the file.
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("title", title || file.name);
    data.append("kind", kindFor(file));
    data.append("language", form.elements.language.value);
    data.append("visibility", form.elements.visibility.value);
    data.append("file", file, file.name);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.endpoint);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      const value = Math.floor(event.loaded / event.total * 100);
      bar.value = value;
      percent.textContent = value + " %";
    });
    xhr.addEventListener("load", function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (error) { body = null; }
      if (xhr.status === 201 && body) {
        bar.value = 100;
        percent.textContent = "100 %";
        finish(texts.done + " ", "done");
        const link = document.createElement("a");
        link.href = "/staff/resources/" + encodeURIComponent(body.id);
        link.textContent = texts.open;
        message.appendChild(link);
      } else {
        const reason = body && body.error ? body.error.message : xhr.statusText;
        finish(texts.failed + " " + reason, "refused");
      }
    });
    xhr.addEventListener("error", function () { finish(texts.network, "failed"); });
    xhr.addEventListener("abort", function () { finish(texts.cancelled, "cancelled"); });
    cancel.addEventListener("click", function () { xhr.abort(); });
    xhr.send(data);
  }

  function uploadAll(files) {
    const title = files.length === 1 ? form.elements.title.value.trim() : "";
    for (const file of files) upload(file, title);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    uploadAll(Array.from(input.files));
    input.value = "";
  });
  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    uploadAll(Array.from(event.dataTransfer.files));
  });
})();
