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
const numbers = new Intl.NumberFormat("en-GB");

function timeLeft(seconds) {
  if (seconds === null || seconds === undefined) return "Working it out";
  const s = Math.ceil(seconds);
  if (s < 60) return `About ${s} second${s === 1 ? "" : "s"}`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `About ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `About ${hours} hour${hours === 1 ? "" : "s"}${rest ? ` ${rest} minute${rest === 1 ? "" : "s"}` : ""}`;
}

function setUpProgress() {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const bar = box.querySelector(".progress-bar");
  const meter = box.querySelector("[role=progressbar]");
  const field = (name) => box.querySelector(`[data-progress-${name}]`);
  // Screen readers hear the phase and every tenth of the way, not every poll.
  let announced = `${field("phase") ? field("phase").textContent : ""}:0`;
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      const state = await response.json();
      const rows = `${numbers.format(state.done)} of ${numbers.format(state.total)}`;
      if (bar) bar.style.width = `${state.percent}%`;
      if (meter) {
        meter.setAttribute("aria-valuenow", state.percent);
        meter.setAttribute("aria-valuetext", `${state.percent}% done: ${rows} rows`);
      }
      if (field("phase") && state.phase) field("phase").textContent = state.phase;
      if (field("done")) field("done").textContent = rows;
      if (field("percent")) field("percent").textContent = `${state.percent}%`;
      if (field("remaining")) field("remaining").textContent = timeLeft(state.remaining_seconds);
      const step = `${state.phase}:${Math.floor(state.percent / 10)}`;
      if (step !== announced && field("text")) {
        field("text").textContent = state.text;
        announced = step;
      }
      if (!state.busy) { window.location.reload(); return; }
    } catch (error) { /* a missed poll is retried */ }
    window.setTimeout(poll, 1000);
  };
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpDropZones();
  setUpProgress();
});
