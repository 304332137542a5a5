// The segment builder: a live count while editing, and each rule's inputs fitted to its field and operator.
// Without this script the builder's buttons do the same by posting the form back.
(() => {
  const form = document.querySelector("form[data-segment-builder]");
  if (!form) return;
  const output = form.querySelector("[data-segment-count]");
  const list = form.querySelector("[data-rule-rows]");
  let timer = null;
  let asked = 0;

  async function refreshCount() {
    const ticket = ++asked;
    const data = new FormData(form);
    data.delete("action");
    try {
      const response = await fetch(form.dataset.countUrl, {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (ticket !== asked) return; // a newer count is on its way
      const error = body.error || {};
      output.textContent = response.ok ? body.text : Object.values(error.fields || {}).join(" ") || error.message || "";
      output.classList.toggle("segment-count__error", !response.ok);
    } catch {
      // Offline or the server is busy: keep the last count; "Preview count" still works.
    }
  }

  function countSoon() {
    clearTimeout(timer);
    timer = setTimeout(refreshCount, 300);
  }

  async function fetchRow(params) {
    const response = await fetch(`${form.dataset.rowUrl}?${new URLSearchParams(params)}`, { credentials: "same-origin" });
    if (!response.ok) return null;
    const holder = document.createElement("ol");
    holder.innerHTML = await response.text();
    return holder.firstElementChild;
  }

  function valuesOf(row) {
    return [...row.querySelectorAll("[name$='-value']")]
      .filter((input) => input.type !== "checkbox" || input.checked)
      .map((input) => input.value);
  }

  async function refitRow(row, part) {
    const params = [["index", row.dataset.ruleRow], ["field", row.querySelector("[data-rule-part=field]").value],
      ["op", row.querySelector("[data-rule-part=op]").value]];
    // A new operator keeps what was typed where it still fits; a new field starts afresh.
    if (part === "op") for (const value of valuesOf(row)) params.push(["value", value]);
    const fresh = await fetchRow(params);
    if (!fresh) return;
    row.replaceWith(fresh);
    fresh.querySelector(`[data-rule-part=${part}]`)?.focus();
  }

  function nextIndex() {
    const taken = [...list.querySelectorAll("[data-rule-row]")].map((row) => Number(row.dataset.ruleRow));
    return taken.length ? Math.max(...taken) + 1 : 0;
  }

  form.addEventListener("input", (event) => {
    if (!event.target.dataset.rulePart) countSoon();
  });
  form.addEventListener("change", async (event) => {
    const part = event.target.dataset.rulePart;
    const row = event.target.closest("[data-rule-row]");
    if (part && row) await refitRow(row, part);
    countSoon();
  });
  form.addEventListener("click", async (event) => {
    const button = event.target.closest("button[name=action]");
    if (!button || button.value === "save") return;
    event.preventDefault();
    if (button.value.startsWith("remove-")) {
      button.closest("[data-rule-row]").remove();
    } else if (button.value === "add") {
      const row = await fetchRow([["index", nextIndex()]]);
      if (row) {
        list.append(row);
        row.querySelector("[data-rule-part=field]").focus();
      }
      form.querySelector(".rule-rows__none")?.remove();
    }
    refreshCount();
  });
})();
