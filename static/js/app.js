// Behaviour that must not live inline (strict Content-Security-Policy).
(function () {
  "use strict";
})();
