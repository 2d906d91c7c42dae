// PRaP Portal: small progressive enhancements, no external libraries.
"use strict";

// Drop zone: dropping a file fills the real file input, so the form works with or without it.
function setUpDropZones() {
  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = zone.querySelector("input[type=file]");
    const label = zone.querySelector("[data-file-name]");
    const show = () => { if (label) label.textContent = input.files.length ? input.files[0].name : ""; };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragover");
    }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragover")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  });
}

// Progress: poll the batch's progress and reload into the result when the work is done.
function setUpProgress() {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const bar = box.querySelector(".progress-bar");
  const text = box.querySelector("[data-progress-text]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      const state = await response.json();
      if (bar) bar.style.width = state.percent + "%";
      if (box.querySelector("[role=progressbar]")) box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", state.percent);
      if (text) text.textContent = state.text;
      if (!state.busy) { window.location.reload(); return; }
    } catch (error) { /* a missed poll is retried */ }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpDropZones();
  setUpProgress();
});
