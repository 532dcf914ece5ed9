// Swagger UI on this service's OpenAPI document, with nothing fetched from elsewhere
// (no validator badge, which would ask validator.swagger.io).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
