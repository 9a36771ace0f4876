/* Balise: progressive enhancement only; every page reads and prints without this script.
   "Imprimer l'affiche" opens the print dialog, and the poster shows when it was printed.
   A file, never an inline script (a strict Content-Security-Policy stays possible); it loads
   nothing. */
(function () {
  "use strict";

  // « jeudi 10 octobre 2024 à 14:03 », « 1er » on the first: as balise/french.py writes it.
  function frenchDateTime(date, timeZone) {
    var options = {
      weekday: "long", day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    };
    if (timeZone) {
      options.timeZone = timeZone;
    }
    var parts = {};
    new Intl.DateTimeFormat("fr-FR", options).formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var day = parts.day === "1" ? "1er" : parts.day;
    return parts.weekday + " " + day + " " + parts.month + " " + parts.year +
      " à " + parts.hour + ":" + parts.minute;
  }

  function stampPrintTime() {
    var now = new Date();
    var stamps = document.querySelectorAll(".balise-printed[data-balise-timezone]");
    Array.prototype.forEach.call(stamps, function (stamp) {
      // The page holds no <time> until printed: an empty one is not valid HTML.
      var time = stamp.querySelector("time");
      if (!time) {
        time = document.createElement("time");
        stamp.appendChild(time);
      }
      try {
        time.textContent = frenchDateTime(now, stamp.getAttribute("data-balise-timezone"));
      } catch (error) {  // an unknown time zone: the reader's own clock is still right
        time.textContent = frenchDateTime(now, undefined);
      }
      time.setAttribute("datetime", now.toISOString());
      stamp.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-balise-print]") : null;
    if (!link || typeof window.print !== "function") {
      return;  // no print dialog here: the link shows how to print instead
    }
    event.preventDefault();
    stampPrintTime();
    window.print();
  });
  window.addEventListener("beforeprint", stampPrintTime);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", stampPrintTime);
  } else {
    stampPrintTime();
  }
})();
