// Filters for the preview: hide the posts that do not match. Without scripts the form stays
// hidden and every post is shown.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var output = document.getElementById("shown");
  var fields = ["account", "language", "goal", "state"];
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var entries = Array.prototype.slice.call(document.querySelectorAll("table.month li"));
  var days = Array.prototype.slice.call(document.querySelectorAll("section.day"));

  function wanted() {
    var want = {};
    fields.forEach(function (name) {
      var value = form.elements[name] ? form.elements[name].value : "";
      if (value !== "") { want[name] = value; }
    });
    return want;
  }

  function matches(el, want) {
    return Object.keys(want).every(function (name) { return el.getAttribute("data-" + name) === want[name]; });
  }

  function apply(remember) {
    var want = wanted();
    var shown = 0;
    cards.forEach(function (card) {
      var ok = matches(card, want);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    entries.forEach(function (li) { li.hidden = !matches(li, want); });
    days.forEach(function (day) { day.hidden = !day.querySelector("article.card:not([hidden])"); });
    output.textContent = shown + " of " + cards.length + " posts shown";
    if (remember) {
      var query = Object.keys(want).map(function (k) { return k + "=" + encodeURIComponent(want[k]); }).join("&");
      try {
        window.history.replaceState(null, "", query ? "#" + query : window.location.pathname);
      } catch (e) {
        // Some browsers refuse to change a file: URL; the filter works all the same.
      }
    }
  }

  // A link to the page can carry a filter: index.html#account=ccbl_x&language=km
  var hash = window.location.hash.slice(1);
  if (hash.indexOf("=") > 0) {
    hash.split("&").forEach(function (pair) {
      var kv = pair.split("=");
      var field = form.elements[kv[0]];
      if (field && fields.indexOf(kv[0]) >= 0) { field.value = decodeURIComponent(kv[1] || ""); }
    });
  }
  form.hidden = false;
  form.addEventListener("change", function () { apply(true); });
  form.addEventListener("reset", function () { window.setTimeout(function () { apply(true); }, 0); });
  apply(false);
}());
