// The two habits of chat pages that htmx has no attribute for: Enter sends, Copy copies.
// Loaded from a file because the CSP forbids inline scripts; listens on the document, so
// fragments htmx swaps in later need no wiring.
(() => {
  "use strict";

  // Enter sends the prompt; Shift+Enter makes a new line; an IME's Enter picks a word.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing) return;
    if (!(box instanceof HTMLTextAreaElement) || !box.hasAttribute("data-enter-sends")) return;
    event.preventDefault();
    const form = box.form;
    // A disabled button means htmx is sending already: a second Enter must not send twice.
    const button = form && form.querySelector('button[type="submit"]');
    if (!form || !button || button.disabled || !box.value.trim()) return;
    form.requestSubmit(button);
  });

  // The words come from the page (data-copied, data-copy-failed), in the page's language.
  function setLabel(button, text) {
    button.arenaLabel ??= button.textContent;
    button.textContent = text;
    clearTimeout(button.arenaTimer);
    button.arenaTimer = setTimeout(() => { button.textContent = button.arenaLabel; }, 2000);
  }

  // Copy puts the answer's markdown, as the model wrote it, on the clipboard.
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element && event.target.closest("button[data-copy]");
    if (!button) return;
    const source = button.closest(".answer-wrap")?.querySelector("template.answer-source");
    const text = source ? source.content.textContent : "";
    try {
      await navigator.clipboard.writeText(text);
      setLabel(button, button.dataset.copied || "Copied");
    } catch {
      setLabel(button, button.dataset.copyFailed || "Copy failed");
    }
  });
})();
