using System.Diagnostics;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Accounts.Statements;

namespace BusinessApi.Benchmarks;

/// <summary>One format's figures: entries written per second, and the managed heap's peak while writing 100,000 and 1,000,000 entries.</summary>
public sealed record StatementFigure(string Format, double EntriesPerSecond, long PeakHeap100K, long PeakHeap1M, double BytesPerEntry);

/// <summary>
/// The statement writers alone (CPU, one core): entries made in memory and streamed through each format to a null
/// stream, as the app streams them to the response. The heap is sampled every 1,000 entries; a writer that held the
/// statement would grow tenfold between 100,000 and 1,000,000 entries. Reading the entries from the ledger is the
/// ledger's own figure (a page of 1,000 rows per query), not repeated here.
/// </summary>
public static class StatementThroughput
{
    public static async Task<IReadOnlyList<StatementFigure>> MeasureAsync()
    {
        var figures = new List<StatementFigure>();
        foreach (var format in new[] { StatementFormats.Mt940, StatementFormats.Camt053, StatementFormats.OneC })
        {
            await RunAsync(format, 10_000); // warm-up
            var (seconds, peak, bytes) = await RunAsync(format, 100_000);
            var (_, peakMillion, _) = await RunAsync(format, 1_000_000);
            figures.Add(new StatementFigure(format, 100_000 / seconds, peak, peakMillion, bytes / 100_000.0));
        }

        return figures;
    }

    private static async Task<(double Seconds, long PeakHeap, long Bytes)> RunAsync(string format, int count)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var writer = StatementFormats.Writer(format)!;
        var header = new StatementHeader("KZ86998AB00000000001", Currency.KZT, "ТОО «Ромашка»", "180240000012", "TSESKZKA", "АО «Alatau City Bank»",
            new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31), 0m, count * 10m, 0m, count * 10m, count, DateTimeOffset.UtcNow);
        long peak = 0;
        var output = new CountingStream();
        var clock = Stopwatch.StartNew();
        await writer.WriteAsync(header, Entries(count, () => peak = Math.Max(peak, GC.GetTotalMemory(false))), output, CancellationToken.None);
        return (clock.Elapsed.TotalSeconds, peak, output.Written);
    }

    private static async IAsyncEnumerable<LedgerEntry> Entries(int count, Action sample)
    {
        var day = new DateOnly(2026, 1, 1);
        var at = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.FromHours(5));
        for (var i = 1; i <= count; i++)
        {
            if (i % 1000 == 0)
            {
                sample();
                await Task.Yield();
            }

            var entryDay = day.AddDays(i * 365 / (count + 1));
            yield return new LedgerEntry(i, entryDay, at, 10m, i * 10m, 0m, i * 10m, "doc:doc_" + i, "payment")
            {
                Counterparty = new Counterparty("ТОО «Поставщик Ақ жол»", "KZ41998AB00000000777", "090140001234", "HSBKKZKX"),
                Purpose = "Оплата за товары по договору № 7 от 01.01.2026, счёт-фактура 15",
                PurposeCode = "710",
                DocumentNumber = (i % 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }
    }

    private sealed class CountingStream : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Written += count;

        public override void Write(ReadOnlySpan<byte> buffer) => Written += buffer.Length;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Written += count;
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
