/* Assay candidate pages: progressive enhancement only; every page works without this file.
 * - autosave: each answer is POSTed as JSON the moment it is given (CSRF header), progress
 *   bars follow, and a status line (role=status) says what happened;
 * - countdown: timed tests show the time left from the server's deadline and submit the page
 *   when it runs out (the server enforces the deadline either way);
 * - an error summary after a plain post gets the focus so that screen readers announce it. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(text) {
    var status = document.getElementById("save-status");
    if (status) { status.textContent = text; }
  }

  function setProgress(id, value, max) {
    var bar = document.getElementById(id);
    var text = document.getElementById(id + "-text");
    if (bar) { bar.value = value; bar.max = max; bar.textContent = value + " of " + max; }
    if (text) { text.textContent = value + " of " + max; }
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var page = parseInt(form.getAttribute("data-page"), 10);
    var last = Date.now();
    var queue = Promise.resolve();

    function send(item, value, seconds, tries) {
      say("Saving your answer…");
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json",
                  "X-CSRFToken": csrfToken(form)},
        body: JSON.stringify({item: item, value: value, page: page, seconds: seconds})
      }).then(function (response) {
        return response.json().then(function (data) {
          return {status: response.status, data: data, retry: response.headers.get("Retry-After")};
        });
      }).then(function (result) {
        if (result.status === 200) {
          say("Answer saved.");
          setProgress("progress-test", result.data.answered, result.data.items);
          setProgress("progress-all", result.data.answered_total, result.data.total_items);
          return;
        }
        var error = result.data.error || {};
        if (result.status === 429 && tries < 3) {
          say("Busy, trying again in a moment…");
          return wait(1000 * Math.min(30, parseInt(result.retry || "2", 10)))
            .then(function () { return send(item, value, seconds, tries + 1); });
        }
        say(error.message || "Your answer could not be saved.");
        if (error.redirect) {
          setTimeout(function () { window.location.assign(error.redirect); }, 2500);
        }
      }).catch(function () {
        say("Connection problem: your answers on this page will be sent when you press the button below.");
      });
    }

    form.addEventListener("change", function (event) {
      var input = event.target;
      if (!input || input.type !== "radio") { return; }
      var now = Date.now();
      var seconds = Math.round((now - last) / 100) / 10;
      last = now;
      var fieldset = input.closest("fieldset");
      if (fieldset) {
        fieldset.classList.remove("missing");
        var flag = fieldset.querySelector(".flag");
        if (flag) { flag.remove(); }
      }
      queue = queue.then(function () { return send(input.name, input.value, seconds, 0); });
    });
  }

  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function countdown(timer, form) {
    var remaining = parseInt(timer.getAttribute("data-remaining"), 10);
    if (isNaN(remaining)) { return; }
    var end = Date.now() + remaining * 1000;
    var value = document.getElementById("timer-value");
    var announce = document.getElementById("timer-announce");
    var said = {};
    var handle = null;

    function timeUp() {
      if (announce) { announce.textContent = "Time is up."; }
      if (form) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "action"; input.value = "timeout";
        form.appendChild(input);
        form.submit();
      } else {
        window.location.reload();
      }
    }

    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      value.textContent = clock(left);
      if (left <= 60) { timer.classList.add("low"); }
      [300, 60].forEach(function (mark) {
        if (left <= mark && remaining > mark && !said[mark] && announce) {
          said[mark] = true;
          announce.textContent = (mark / 60) + (mark === 60 ? " minute" : " minutes") + " left.";
        }
      });
      if (left <= 0) {
        clearInterval(handle);
        setTimeout(timeUp, 500);
      }
    }

    handle = setInterval(tick, 1000);
    tick();
  }

  var form = document.getElementById("items-form");
  if (form && window.fetch && window.Promise) { autosave(form); }
  var timer = document.getElementById("timer");
  if (timer) { countdown(timer, form); }
  var error = document.getElementById("form-error");
  if (error) { error.focus(); }
}());
