// Searchable selects: every <select data-select> becomes a Tom Select (static/vendor/tom-select/).
// The server marks them (core/forms.py: searchable(), RemoteSelect); without this script they
// stay ordinary selects and the forms still work.
//
// data-placeholder        shown while nothing is chosen (a single select's empty choice says it already)
// data-remote="<url>"     options come from that lookup (core/lookups.py: ?q= → [{value, text}])
//                         as the user types; the page renders only the chosen ones
// data-remote-with="p=id" the lookup also gets the value of the field with that id as parameter p
//                         (a unit's people, an enterprise's projects); while it is empty the select
//                         is disabled, and choosing another empties it
// The words (no match, searching …) are on <body data-select-*>, translated by the server.
(() => {
  "use strict";

  function dependencies(select) {
    return (select.dataset.remoteWith || "")
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [param, id] = pair.split("=");
        return { param, field: document.getElementById(id) };
      })
      .filter((dependency) => dependency.field);
  }

  function remote(select, settings) {
    const source = new URL(select.dataset.remote, window.location.href);
    const needs = dependencies(select);
    Object.assign(settings, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      // The server has searched (names, short names, credit codes …): the matches it sent for this
      // text stay, in its order; while it answers, what is on hand is narrowed by name.
      score(search) {
        const term = search.toLowerCase();
        return (item) => (item.loadedFor === search || String(item.text).toLowerCase().includes(term) ? 1 : 0);
      },
      preload: "focus",
      shouldLoad: () => true,
      load(query, callback) {
        const address = new URL(source);
        address.searchParams.set("q", query);
        needs.forEach(({ param, field }) => address.searchParams.set(param, field.value));
        fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((response) => (response.ok ? response.json() : []))
          .then((items) => {
            // Only this search's matches (and what is chosen) stay offered.
            this.clearOptions();
            callback(items.map((item) => ({ ...item, loadedFor: query })));
          })
          .catch(() => callback());
      },
    });
    return needs;
  }

  function follow(control, needs) {
    if (!needs.length) return;
    const ready = () => needs.every(({ field }) => field.value);
    const update = (changed) => {
      if (changed) {
        control.clear(true);
        control.clearOptions();
        control.wrapper.classList.remove("preloaded");
      }
      if (ready()) control.enable();
      else control.disable();
    };
    needs.forEach(({ field }) => field.addEventListener("change", () => update(true)));
    update(false);
  }

  function setUp(select) {
    if (select.tomselect) return;
    const words = document.body.dataset;
    const multiple = select.multiple;
    const clearable = !multiple && !select.required && Array.from(select.options).some((o) => o.value === "");
    const plugins = {};
    if (multiple) plugins.remove_button = { title: words.selectRemove || "" };
    else if (clearable) plugins.clear_button = { title: words.selectClear || "" };
    const settings = {
      plugins,
      maxOptions: null,
      hidePlaceholder: true,
      closeAfterSelect: !multiple,
      render: {
        no_results: () => `<div class="no-results">${escape(words.selectNoResults || "")}</div>`,
      },
    };
    const needs = select.dataset.remote ? remote(select, settings) : [];
    const control = new window.TomSelect(select, settings);
    follow(control, needs);
    speak(select, control);
  }

  // For screen readers (issue 22): Tom Select's box (role=combobox) carries the label, the <select>
  // it replaces stays only for the form, out of the accessibility tree (else it is a second,
  // unlabelled field); and what is chosen, shown as items beside the empty typing box, is read as
  // the box's description.
  function speak(select, control) {
    select.setAttribute("aria-hidden", "true");
    const chosen = document.createElement("span");
    chosen.className = "visually-hidden";
    chosen.id = `${control.inputId}-ts-chosen`;
    control.wrapper.after(chosen);
    const input = control.control_input;
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), chosen.id].filter(Boolean).join(" "));
    const say = () => {
      chosen.textContent = control.items.map((value) => control.options[value]?.text ?? value).join("、");
    };
    control.on("change", say);
    say();
  }

  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof window.TomSelect !== "function") return;
    document.querySelectorAll("select[data-select]").forEach(setUp);
  });
})();
