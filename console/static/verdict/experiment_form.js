// The experiment form (console/templates/experiments/experiment_form.html): a save waits for the
// live check already on its way, and no check starts once the form is being sent, so leaving
// the page never cuts a request short. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  var FORM_ID = "experiment-form";

  function theForm() {
    return document.getElementById(FORM_ID);
  }

  function busy(form) {
    return form.querySelector(".htmx-request") !== null;
  }

  function sameButton(form, submitter) {
    if (submitter && submitter.isConnected) return submitter;
    var name = submitter ? submitter.name : "action";
    var value = submitter ? submitter.value : "save";
    return Array.prototype.find.call(form.elements, function (el) {
      return el.type === "submit" && el.name === name && el.value === value;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== FORM_ID) return;
    if (busy(form)) {
      event.preventDefault();
      form.dataset.saveWaiting = "1";
      form.waitingSubmitter = event.submitter || null;
      return;
    }
    form.dataset.sending = "1";
  });

  document.addEventListener("htmx:afterRequest", function () {
    var form = theForm();
    if (!form || !form.dataset.saveWaiting) return;
    window.setTimeout(function () {
      if (!form.dataset.saveWaiting || busy(form)) return;
      delete form.dataset.saveWaiting;
      form.requestSubmit(sameButton(form, form.waitingSubmitter));
    }, 0);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = theForm();
    if (form && form.dataset.sending && form.contains(event.detail.elt)) event.preventDefault();
  });

  window.addEventListener("pageshow", function () {
    var form = theForm();
    if (form) {
      delete form.dataset.sending;
      delete form.dataset.saveWaiting;
    }
  });
})();
