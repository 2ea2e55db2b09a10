using BusinessApi;

// Composition only: each capability adds its services and maps its endpoints.
FunctionsApp.Create(args).Run();
