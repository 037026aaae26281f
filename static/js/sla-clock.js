/* Live SLA clocks: every <time class="sla-clock" datetime="..."> shows how long
   until (or since) its due time, refreshed every 30 seconds. The server renders
   the same words (portal/selectors.py duration_text/remaining_text), so the
   text does not jump when this script takes over. Loaded as a file with
   `defer`: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  var INTERVAL_MS = 30 * 1000;

  // Both languages of the site; the page's <html lang> picks one.
  var WORDS = {
    en: {
      days: "{d} d {h} h",
      hours: "{h} h {m} min",
      minutes: "{m} min",
      left: "{t} left",
      overdue: "{t} overdue",
    },
    nl: {
      days: "{d} d {h} u",
      hours: "{h} u {m} min",
      minutes: "{m} min",
      left: "nog {t}",
      overdue: "{t} te laat",
    },
  };

  function words() {
    var lang = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    return WORDS[lang] || WORDS.en;
  }

  function fill(template, values) {
    return template.replace(/\{(\w)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  // Rounded down to whole minutes, as the server does.
  function duration(ms, w) {
    var total = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(total / 1440);
    var hours = Math.floor((total % 1440) / 60);
    var minutes = total % 60;
    if (days) return fill(w.days, { d: days, h: hours });
    if (hours) return fill(w.hours, { h: hours, m: minutes });
    return fill(w.minutes, { m: minutes });
  }

  function update(element, now, w) {
    // Django writes microseconds; Date.parse is only specified for milliseconds.
    var stamp = (element.getAttribute("datetime") || "").replace(/(\.\d{3})\d+/, "$1");
    var due = Date.parse(stamp);
    if (isNaN(due)) return;
    var ms = due - now;
    var overdue = ms < 0;
    element.textContent = fill(overdue ? w.overdue : w.left, { t: duration(ms, w) });
    element.classList.toggle("overdue", overdue);
    // Marks the text as the script's, for the stylesheet and the browser tests.
    element.setAttribute("data-live", "true");
  }

  function tick() {
    var now = Date.now();
    var w = words();
    var clocks = document.querySelectorAll("time.sla-clock[datetime]");
    for (var i = 0; i < clocks.length; i++) update(clocks[i], now, w);
  }

  tick();
  window.setInterval(tick, INTERVAL_MS);
  // Clocks that arrive later through an htmx swap start at once, not after 30 s.
  document.addEventListener("htmx:afterSettle", tick);
})();
