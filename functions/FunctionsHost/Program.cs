using BusinessApi.FunctionsHost;

// The Functions head: the same composition as the Kestrel host (FunctionsApp.AddBusinessApi), run by the isolated worker.
FunctionsHostApp.CreateBuilder(args).Build().Run();
