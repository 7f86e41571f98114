// The app's one answer to htmx requests that fail, for every page (base.html loads it), and the
// pages that must never be shown from the back-forward cache. Behaviour lives here and not
// inline, for the strict Content-Security-Policy.
//
// How answers are handled is configured once, in base.html's htmx-config: 2xx/3xx swap, 204
// does not, 422 and 429 (a form sent back with its errors, a refusal with its explanation) swap
// their body, anything else is an error that swaps nothing, so what was typed stays on screen.
// Here every error (4xx, 5xx, network, timeout) gets a French message next to the control that
// sent the request; the next success of that control clears it.
(function () {
  "use strict";

  var CLASS = "request-error";

  function text(name, code) {
    var source = document.getElementById("request-error-messages");
    var template = (source && source.dataset[name]) || "";
    return template.replace("%s", code === undefined ? "" : String(code));
  }

  function visible(element) {
    return !!element && element.isConnected && element.getClientRects().length > 0;
  }

  // Where the user was looking: right after the form (or the control) that sent the request;
  // for a request nobody clicked (a hidden poller), the page-wide box at the top of the page.
  function anchorFor(elt) {
    var anchor = elt.tagName === "FORM" ? elt : elt.closest("form") || elt;
    if (elt.matches && elt.matches("input, select, textarea")) anchor = elt;
    return visible(anchor) ? anchor : null;
  }

  function pageBox() {
    var box = document.getElementById("request-errors");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-errors";
      box.className = "request-errors";
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }

  function show(elt, message) {
    var anchor = anchorFor(elt);
    var box;
    if (anchor) {
      box = anchor.nextElementSibling;
      if (!box || !box.classList.contains(CLASS)) {
        box = document.createElement("p");
        box.className = CLASS + " message message-error";
        box.setAttribute("role", "alert");
        anchor.insertAdjacentElement("afterend", box);
      }
    } else {
      var region = pageBox();
      box = region.querySelector("." + CLASS);
      if (!box) {
        box = document.createElement("p");
        box.className = CLASS + " message message-error";
        box.setAttribute("role", "alert");
        region.appendChild(box);
      }
    }
    box.textContent = message;
    // Remembered on the element so that its next success clears the right message.
    elt.dataset.requestError = "1";
    if (box._origamiOwner !== elt) box._origamiOwner = elt;
  }

  function clear(elt) {
    if (!elt.dataset || !elt.dataset.requestError) return;
    delete elt.dataset.requestError;
    document.querySelectorAll("." + CLASS).forEach(function (box) {
      if (box._origamiOwner === elt || !box._origamiOwner || !box._origamiOwner.isConnected) {
        box.remove();
      }
    });
  }

  // A page with its own retry banner (the prescription screen) retries network errors, 5xx and
  // timeouts itself and says so there; refusals are still explained here.
  function retriedElsewhere(elt) {
    return !!elt.closest("[data-retries]") && !elt.hasAttribute("data-poll");
  }

  function refusalMessage(code) {
    if (code === 403) return text("forbidden", code);
    if (code === 404 || code === 410) return text("gone", code);
    if (code === 409) return text("conflict", code);
    if (code === 413) return text("tooLarge", code);
    if (code === 429) return text("busy", code);
    return text("refused", code);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    if (code >= 500) {
      if (!retriedElsewhere(elt)) show(elt, text("server", code));
    } else {
      show(elt, refusalMessage(code));
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (!retriedElsewhere(event.detail.elt)) show(event.detail.elt, text("network"));
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (!retriedElsewhere(event.detail.elt)) show(event.detail.elt, text("timeout"));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) clear(event.detail.elt);
  });

  // Back (or Forward) must not show the past, such as a signed prescription as a draft: a page
  // restored from the back-forward cache, or a page with patient data (hx-history="false")
  // shown again from the HTTP cache, is fetched again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); return; }
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation") : [];
    var navigation = entries[0];
    if (navigation && navigation.type === "back_forward" && navigation.transferSize === 0 &&
        document.body.getAttribute("hx-history") === "false") {
      window.location.reload();
    }
  });
})();
