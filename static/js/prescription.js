// The prescription screen: keyboard-first drug picking, "Modifier" focusing the line, printing,
// and a visible retry when a request from the browser fails (nothing typed is lost: htmx only
// swaps on success, so the form keeps its values while we retry).
(function () {
  "use strict";

  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000];
  var retries = new Map();  // element being retried -> attempts made

  function $(selector, root) { return (root || document).querySelector(selector); }

  function message(name, value) {
    var box = $("#connection-status");
    var text = (box && box.dataset[name]) || "";
    return value === undefined ? text : text.replace("%s", value);
  }

  function status(text) {
    var box = $("#connection-status");
    if (!box) return;
    box.textContent = text || "";
    box.classList.toggle("hidden", !text);
  }

  function pickDrug(button) {
    var form = $("#add-line");
    if (!form) return;
    ["code", "label", "substance", "form", "route", "unit", "dci", "confirm", "secure"].forEach(function (key) {
      var input = form.querySelector('input[name="drug_' + key + '"]');
      if (input) input.value = button.dataset[key] || "";
    });
    // A restricted product asks its confirmation; a narcotic shows its rules and the
    // "chevauchement" mention (both sent with the line, checked again by the server).
    var confirm = $("#drug-confirm");
    if (confirm) {
      confirm.classList.toggle("hidden", !button.dataset.confirm);
      var text = $("#drug-confirm-text");
      if (text) text.textContent = button.dataset.confirm || "";
      var box = confirm.querySelector('input[type="checkbox"]');
      if (box) box.checked = false;
    }
    var secure = $("#drug-secure");
    if (secure) secure.classList.toggle("hidden", !button.dataset.secure);
    var chosen = $("#drug-chosen");
    if (chosen) {
      chosen.querySelector("strong").textContent = button.dataset.label || "";
      chosen.classList.remove("hidden");
    }
    var results = $("#drug-results");
    if (results) results.innerHTML = "";
    var posology = $("#posology-input");
    if (button.dataset.posology !== undefined) fillFromFavourite(form, button.dataset);
    if (posology) posology.focus();
    // What this drug would raise, before its posology is typed (a preview, not the analysis).
    var preview = $("#drug-preview");
    if (preview && window.htmx) htmx.trigger(preview, "drug-picked");
  }

  // A favourite brings its usual posology and options: Enter then adds the line.
  function fillFromFavourite(form, data) {
    function set(name, value) {
      var input = form.querySelector('[name="' + name + '"]');
      if (!input) return;
      if (input.type === "checkbox") input.checked = value === "1";
      else input.value = value || "";
    }
    set("posology", data.posology);
    set("quantity", data.quantity);
    set("renewals", data.renewals || "0");
    set("non_substitutable", data.nonsub);
    set("non_substitutable_reason", data.nonsubReason);
    set("ald", data.ald);
    set("instructions", data.instructions);
  }
  // The draft's poll (#draft-watch) must not mistake this tab's own change for another's: it
  // is not sent while a request of the screen is in flight, and its answer is dropped when a
  // request of the screen started meanwhile (that request's answer shows the draft as it is).
  var inFlight = 0;
  var watchOutdated = false;
  function onScreen(elt) { return elt && elt.closest && elt.closest(".rx-layout"); }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!onScreen(elt)) return;
    if (elt.id === "draft-watch") {
      if (inFlight > 0) { event.preventDefault(); return; }
      watchOutdated = false;
      return;
    }
    inFlight += 1;
    watchOutdated = true;
    // loadend comes once per request, whatever became of the element that sent it.
    event.detail.xhr.addEventListener("loadend", function () { inFlight = Math.max(0, inFlight - 1); });
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (elt.id === "draft-watch" && (watchOutdated || !elt.isConnected)) event.detail.shouldSwap = false;
  });

  // "Changed elsewhere" is about content this tab never displayed. An answer saying it about a
  // version this tab's editor already showed (an analysis overtaken by the next line this tab
  // added, while Ordoclic was answering) has nothing new to warn about: the warning goes. Any
  // other version keeps it, until the prescriber sees the next answer of their own.
  var displayed = new Set();
  function noteDisplayed() {
    var shown = $("#draft-version");
    if (!shown) return;
    var warning = $("#changed-elsewhere");
    if (!warning) displayed.add(shown.value);
    else if (displayed.has(shown.value)) warning.remove();
  }
  document.addEventListener("DOMContentLoaded", noteDisplayed);
  document.addEventListener("htmx:afterSwap", noteDisplayed);  // out-of-band swaps included

  // Every request of the screen carries the version its editor shows: the server refuses to
  // sign, decide or change any other, and answers with the whole screen as it is now.
  document.addEventListener("htmx:configRequest", function (event) {
    var shown = $("#draft-version");
    var elt = event.detail.elt;
    if (shown && elt.closest && elt.closest(".rx-layout") && elt.id !== "draft-watch") {
      event.detail.parameters.version = shown.value;
    }
  });

  document.addEventListener("click", function (event) {
    var drug = event.target.closest(".rx-drug");
    if (drug && drug.classList.contains("rx-protocol")) return;  // htmx inserts the protocol
    if (drug) { event.preventDefault(); pickDrug(drug); return; }
    var modify = event.target.closest("[data-focus-line]");
    if (modify) {
      var line = document.getElementById("line-" + modify.dataset.focusLine);
      if (line) {
        var details = line.querySelector("details.rx-line-edit");
        line.classList.add("rx-focus");
        line.dataset.focusPending = "1";
        if (details) details.open = true;  // fetches its form (below), unless already there
        focusPendingLine();
        line.scrollIntoView({ block: "center" });
      }
      return;
    }
    if (event.target.closest(".js-print")) { window.print(); }
  });

  // A line's "Modifier" form is fetched when it opens (the screen stays light with many
  // lines); the alert's "Modifier" puts the cursor in its posology once the form is there.
  function focusPendingLine() {
    var line = $(".rx-line[data-focus-pending]");
    var input = line && line.querySelector('.rx-line-edit input[name="posology"]');
    if (!input) return;
    delete line.dataset.focusPending;
    input.focus();
    input.select();
  }
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.rx-line-edit") || !details.open) return;
    var body = details.querySelector(".rx-line-edit-body");
    if (body && !body.querySelector("form") && window.htmx) htmx.trigger(body, "line-edit");
  }, true);  // "toggle" does not bubble
  document.addEventListener("htmx:afterSettle", focusPendingLine);

  // Arrow keys move between the search box and the results; Enter picks.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.id === "drug-search" && event.key === "ArrowDown") {
      var first = $("#drug-results .rx-drug");
      if (first) { event.preventDefault(); first.focus(); }
    } else if (target.id === "drug-search" && event.key === "Enter") {
      event.preventDefault();
      var only = $("#drug-results .rx-drug");
      if (only && only.classList.contains("rx-protocol")) only.click();
      else if (only) pickDrug(only);
    } else if (target.classList && target.classList.contains("rx-drug")) {
      if (event.key === "ArrowDown" && target.nextElementSibling) { event.preventDefault(); target.nextElementSibling.focus(); }
      if (event.key === "ArrowUp") {
        event.preventDefault();
        (target.previousElementSibling && target.previousElementSibling.classList.contains("rx-drug")
          ? target.previousElementSibling : $("#drug-search")).focus();
      }
    }
  });

  // The event that makes this element send its request again: the search box's "search"
  // (its "input changed" would not fire on the same text), else the first of its hx-trigger
  // (the options form sends on "change"), else htmx's default for the element.
  function sendingEvent(elt) {
    if (elt.id === "drug-search") return "search";
    var first = (elt.getAttribute("hx-trigger") || "").split(",")[0].trim().split(/\s+/)[0];
    if (first && first !== "every") return first;
    if (elt.tagName === "FORM") return "submit";
    return elt.matches("input, select, textarea") ? "change" : "click";
  }

  function retry(elt, verb) {
    var attempt = retries.get(elt) || 0;
    if (attempt >= RETRY_DELAYS.length) {
      status(message("gaveUp"));
      retries.delete(elt);
      return;
    }
    retries.set(elt, attempt + 1);
    status(message("retrying", Math.round(RETRY_DELAYS[attempt] / 1000)));
    window.setTimeout(function () {
      if (!document.body.contains(elt)) return;
      if (verb === "post" && elt.id === "analysis") { htmx.trigger(document.body, "draft-changed"); }
      else { htmx.trigger(elt, sendingEvent(elt)); }
    }, RETRY_DELAYS[attempt]);
  }

  // What to send again is the element that sent the request (a form, the search box, a
  // button): not the form around it, or a failed search would submit the line being typed.
  // A poll tries again by itself (app.js says it); the picked drug's preview is only a hint,
  // the analysis of the added line says the same.
  function notRetried(elt) { return elt.hasAttribute("data-poll") || elt.id === "drug-preview"; }

  function retryFailed(event) {
    var elt = event.detail.elt;
    if (notRetried(elt)) return;
    retry(elt, event.detail.requestConfig && event.detail.requestConfig.verb);
  }
  // Refusals (4xx) are explained by app.js, for every page; here only what a retry can mend.
  document.addEventListener("htmx:sendError", retryFailed);
  document.addEventListener("htmx:timeout", retryFailed);
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status >= 500) retryFailed(event);
  });
  // The banner goes once what failed went through: not on the success of an unrelated
  // request (a poll, a preview) while a retry is still pending.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var elt = event.detail.elt;
    if (retries.has(elt)) retries.delete(elt);
    else if (notRetried(elt)) return;
    retries.forEach(function (_, pending) { if (!document.body.contains(pending)) retries.delete(pending); });
    if (retries.size === 0) status("");
  });

  // A justification being typed survives a redraw of the analysis (a late analysis, another
  // tab's change): kept per Ordoclic alert id (stable for the same finding), put back into the
  // same alert's empty box, forgotten once that alert's decision is recorded.
  var justifications = new Map();
  document.addEventListener("input", function (event) {
    var key = event.target.dataset && event.target.dataset.alertKey;
    if (key) justifications.set(key, event.target.value);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || form.tagName !== "FORM") return;
    var box = form.querySelector("textarea[data-alert-key]");  // the decision's own form
    if (box) justifications.delete(box.dataset.alertKey);
  });
  document.addEventListener("htmx:afterSettle", function () {
    justifications.forEach(function (text, key) {
      if (!text) return;
      document.querySelectorAll("textarea[data-alert-key]").forEach(function (box) {
        if (box.dataset.alertKey !== key || box.value) return;
        box.value = text;
        var details = box.closest("details");
        if (details) details.open = true;
      });
    });
  });

  // What was typed in the search box before the scripts were ready still searches.
  document.addEventListener("DOMContentLoaded", function () {
    var search = $("#drug-search");
    if (search && search.value.trim().length >= 2 && window.htmx) htmx.trigger(search, "search");
  });

  // After a line is added, the search box is ready for the next drug.
  document.addEventListener("htmx:afterSettle", function () {
    var form = $("#add-line");
    if (form && form.dataset.focusSearch === "1") {
      var search = $("#drug-search");
      if (search) search.focus();
      form.dataset.focusSearch = "";
    }
  });
})();
