// Images for a prompt: the file picker, drag and drop, and paste put each image in the form as a
// thumbnail with a remove button and a hidden input named "images" holding its data: URI, which
// the form posts like any other field (htmx or not). The server checks every image again.
// Listens on the document, so forms htmx swaps in later need no wiring.
(() => {
  "use strict";
  const TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

  const areaOf = (el) => el instanceof Element
    ? (el.closest("form") || el).querySelector("[data-attach]") : null;

  // The words come from the page (data-say-*, in its language; see _attach.html), with {name}
  // and {n} filled in here; English when a page has none.
  const ENGLISH = {
    sayType: "{name} is not a PNG, JPEG, WebP or GIF image.",
    saySize: "{name} is larger than {mib} MiB.",
    sayMany: "A prompt may carry at most {max} images.",
    sayUnread: "{name} could not be read.",
    sayUnnamed: "That file",
    sayAlt: "Attached image {n}",
    sayRemove: "Remove image {n}",
  };
  function words(area, key, values = {}) {
    const text = area.dataset[key] || ENGLISH[key];
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
  }

  function say(area, text) {
    const box = area.querySelector("[data-attach-error]");
    if (box) box.textContent = text;
  }

  function add(area, file) {
    const thumbs = area.querySelector("[data-thumbs]");
    const max = Number(area.dataset.max || 4);
    const maxBytes = Number(area.dataset.maxBytes || 5242880);
    const name = file.name || words(area, "sayUnnamed");
    if (!TYPES.includes(file.type)) {
      say(area, words(area, "sayType", { name }));
      return;
    }
    if (file.size > maxBytes) {
      say(area, words(area, "saySize", { name, mib: (maxBytes / 1048576).toFixed(0) }));
      return;
    }
    if (thumbs.children.length >= max) {
      say(area, words(area, "sayMany", { max }));
      return;
    }
    const figure = document.createElement("figure");
    figure.className = "thumb";
    thumbs.append(figure); // holds the place, so the order is the order of choosing
    const reader = new FileReader();
    reader.onload = () => {
      const n = [...thumbs.children].indexOf(figure) + 1;
      const img = document.createElement("img");
      img.src = reader.result;
      img.alt = words(area, "sayAlt", { n });
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "images";
      input.value = reader.result;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "thumb-remove";
      remove.dataset.removeImage = "";
      remove.setAttribute("aria-label", words(area, "sayRemove", { n }));
      remove.textContent = "×";
      figure.append(img, input, remove);
    };
    reader.onerror = () => { figure.remove(); say(area, words(area, "sayUnread", { name })); };
    reader.readAsDataURL(file);
  }

  function addAll(area, files) {
    say(area, "");
    for (const file of files) add(area, file);
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-attach-input")) return;
    const area = input.closest("[data-attach]");
    addAll(area, [...input.files]);
    input.value = ""; // the same file may be chosen again after removing it
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-remove-image]");
    if (!button) return;
    const area = button.closest("[data-attach]");
    button.closest(".thumb").remove();
    say(area, "");
  });

  // Paste into the prompt (or anywhere in its form): images go to the thumbnails, text as usual.
  document.addEventListener("paste", (event) => {
    const area = areaOf(event.target);
    const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (!area || !files.length) return;
    event.preventDefault();
    addAll(area, files);
  });

  document.addEventListener("dragover", (event) => {
    const area = areaOf(event.target);
    if (!area || !event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    area.classList.add("dropping");
  });
  document.addEventListener("dragleave", (event) => {
    const area = areaOf(event.target);
    if (area) area.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    const area = areaOf(event.target);
    if (!area || !event.dataTransfer?.files.length) return;
    event.preventDefault();
    area.classList.remove("dropping");
    addAll(area, [...event.dataTransfer.files]);
  });
})();
