// Search box enhancements: title and word suggestions from /api/suggest in the input's
// <datalist>, and sort choices that apply at once. Without this file the forms still work.
"use strict";
(function () {
  for (const input of document.querySelectorAll("input[data-suggest]")) {
    const list = document.getElementById(input.getAttribute("list"));
    let timer = null;
    let controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      const prefix = input.value.trim();
      if (prefix.length < 2) { list.replaceChildren(); return; }
      timer = setTimeout(async function () {
        if (controller) controller.abort();
        controller = new AbortController();
        try {
          const answer = await fetch(input.dataset.suggest + "?q=" + encodeURIComponent(prefix),
                                     {signal: controller.signal, headers: {Accept: "application/json"}});
          if (!answer.ok) return;
          const body = await answer.json();
          list.replaceChildren(...body.suggestions.map(function (s) {
            const option = document.createElement("option");
            option.value = s.text;  // textContent-like: never parsed as HTML
            return option;
          }));
        } catch (error) {
          if (error.name !== "AbortError") throw error;
        }
      }, 150);
    });
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  }
})();
