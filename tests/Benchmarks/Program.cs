using System.Globalization;
using BusinessApi.Benchmarks;

// Prints this machine's figures. Run through ./bench.sh, which starts Azurite and passes its connection string.
var seconds = ArgValue("--seconds", 5.0);
var concurrency = (int)ArgValue("--concurrency", 32);
var connection = Environment.GetEnvironmentVariable("AzureWebJobsStorage")
    ?? throw new InvalidOperationException("Set AzureWebJobsStorage (./bench.sh does).");

Console.WriteLine($"Business API benchmarks — {Environment.ProcessorCount} cores, {concurrency} concurrent callers, {seconds:F1} s per figure");
Console.WriteLine();
Console.WriteLine("Raw Azurite rates (the baseline every later figure is a ratio of):");
Console.WriteLine(Measurement.Header);
Console.WriteLine(Measurement.Rule);
var baseline = await new AzuriteBaseline(connection, concurrency, TimeSpan.FromSeconds(seconds)).MeasureAsync();
foreach (var measurement in baseline.All)
{
    Console.WriteLine(measurement.Row());
}

double ArgValue(string name, double fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
