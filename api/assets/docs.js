// Starts Swagger UI on /docs. It is a file of its own because the page's Content-Security-Policy
// runs no inline script.
"use strict";
window.ui = SwaggerUIBundle({
  // Relative to the page, so that the reference also works behind a proxy that mounts minime
  // under a path prefix.
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // By default a badge loads an image from validator.swagger.io carrying the document's URL:
  // a request to another origin that would tell it where this server runs.
  validatorUrl: null,
  // Only the document this server serves is shown: a ?url= in the address cannot swap it.
  queryConfigEnabled: false,
});
