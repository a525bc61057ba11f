// The webinar page: chapter and transcript links seek the player instead of opening the
// file; the transcript line being spoken is marked and kept in view; the filter box hides
// lines without the words typed. Without this file every link opens the recording at its
// second (a media fragment), which browsers play natively.
"use strict";
(function () {
  const player = document.getElementById("player");
  if (!player) return;
  const lines = Array.from(document.querySelectorAll("#transcript a[data-seek]"));
  const starts = lines.map(function (a) { return parseFloat(a.dataset.seek); });
  let current = -1;

  function seek(seconds) {
    player.currentTime = seconds;
    player.play().catch(function () { /* autoplay refused: the position still moved */ });
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-seek]");
    if (!link) return;
    event.preventDefault();
    seek(parseFloat(link.dataset.seek));
  });

  function follow() {
    const t = player.currentTime;
    let index = -1;
    for (let i = 0; i < starts.length && starts[i] <= t + 0.05; i++) index = i;
    if (index === current) return;
    if (current >= 0) lines[current].removeAttribute("aria-current");
    current = index;
    if (index >= 0) {
      lines[index].setAttribute("aria-current", "true");
      const panel = document.getElementById("transcript");
      const line = lines[index].parentElement;
      if (!panel.matches(":hover")) {
        panel.scrollTop = line.offsetTop - panel.offsetTop - panel.clientHeight / 3;
      }
    }
  }
  player.addEventListener("timeupdate", follow);
  player.addEventListener("seeked", follow);

  const start = parseFloat(player.dataset.start || "");
  if (!Number.isNaN(start)) {
    player.addEventListener("loadedmetadata", function () { player.currentTime = start; },
                            {once: true});
  }

  const filter = document.getElementById("transcript-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      const words = filter.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
      for (const link of lines) {
        const text = link.textContent.toLocaleLowerCase();
        link.parentElement.hidden = !words.every(function (w) { return text.includes(w); });
      }
    });
  }
})();
