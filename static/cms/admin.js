// Starts the Wagtail admin's widgets and panels that Wagtail starts with inline scripts.
// The admin's Content-Security-Policy runs no inline script (cms/admin_guard.py): our
// overrides of those templates (cms/templates/wagtailadmin/) leave a hidden marker with the
// same arguments instead, and this starts each one, in the page as loaded and in anything
// added later (a new child of an inline panel, a dialog). It also names the fields Wagtail
// leaves without a name (below).
(function () {
  "use strict";

  // The chooser constructors a marker may name (cms/admin_scripts.py CONSTRUCTORS).
  var choosers = ["Chooser", "ImageChooser", "DocumentChooser", "PageChooser", "SnippetChooser"];

  var starters = {
    chooser: function (id, config, marker) {
      var name = marker.getAttribute("data-cms-constructor");
      if (choosers.indexOf(name) !== -1 && typeof window[name] === "function") {
        new window[name](id, config);
      }
    },
    date: function (id, config) { window.initDateChooser(id, config); },
    time: function (id, config) { window.initTimeChooser(id, config); },
    datetime: function (id, config) { window.initDateTimeChooser(id, config); },
    "inline-panel": function (id, config) { new window.InlinePanel(config); },
    "multiple-chooser-panel": function (id, config) {
      new window.MultipleChooserPanel(config);
    },
  };

  function start(marker) {
    var kind = marker.getAttribute("data-cms-init");
    var id = marker.getAttribute("data-cms-for");
    var config = JSON.parse(marker.getAttribute("data-cms-config") || "{}");
    marker.removeAttribute("data-cms-init"); // once only
    var input = id && document.getElementById(id);
    // A picker Wagtail's own code already started (a StreamField block) is left alone.
    if (input && window.jQuery && window.jQuery(input).data("xdsoft_datetimepicker")) {
      return;
    }
    if (starters[kind]) {
      starters[kind](id, config, marker);
    }
  }

  function startAll(root) {
    if (root.nodeType !== 1) {
      return;
    }
    if (root.hasAttribute("data-cms-init")) {
      start(root);
    }
    root.querySelectorAll("[data-cms-init]").forEach(start);
  }

  // A field of a StreamField block has no label of its own in Wagtail (the block's heading
  // stands above it), nor has the rich-text editor's typing area: a screen reader would say
  // only "edit text" (axe: "label", "aria-input-field-name"). Each control left without a
  // name is named by its field's label, or else by the heading of the block it is in.
  var CONTROLS = "input:not([type=hidden]), textarea, select, [contenteditable=true][role=textbox]";
  var count = 0;

  function hasName(control) {
    return (control.labels && control.labels.length > 0) ||
      control.hasAttribute("aria-label") || control.hasAttribute("aria-labelledby") ||
      control.hasAttribute("title");
  }

  function idOf(element) {
    if (!element.id) {
      count += 1;
      element.id = "cms-name-" + count;
    }
    return element.id;
  }

  function name(control) {
    if (hasName(control)) {
      return;
    }
    var field = control.closest(".w-field");
    var label = field && field.querySelector(".w-field__label");
    if (!label || label.closest(".w-field") !== field) {
      var panel = control.closest("section.w-panel, [data-panel]");
      label = panel && panel.querySelector("[data-panel-heading]");
    }
    if (label) {
      control.setAttribute("aria-labelledby", idOf(label));
    }
  }

  function nameAll(root) {
    if (root.nodeType !== 1) {
      return;
    }
    if (root.matches(CONTROLS)) {
      name(root);
    }
    root.querySelectorAll(CONTROLS).forEach(name);
  }

  function ready() {
    startAll(document.body);
    nameAll(document.body);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(startAll);
        change.addedNodes.forEach(nameAll);
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
