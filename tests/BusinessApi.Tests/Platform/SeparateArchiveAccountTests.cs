using BusinessApi.Documents;
using BusinessApi.Platform.Storage;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform;

/// <summary>
/// <c>ArchiveStorage</c>: the archive container in its own account (in Azure, the one with the locked
/// WORM policy), every other container in the main one. One Azurite answers both here; the archive's
/// client is told apart by the host name it was configured with.
/// </summary>
public sealed class SeparateArchiveAccountTests : IDisposable
{
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public async Task The_archive_goes_to_the_configured_account_and_everything_else_stays_in_the_main_one()
    {
        var archiveConnection = Azurite.ConnectionString.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        Assert.NotEqual(Azurite.ConnectionString, archiveConnection);
        var app = await TestApp.StartAsync(new Dictionary<string, string> { ["ArchiveStorage"] = archiveConnection });
        await using var _ = app;
        var storage = app.Services.GetRequiredService<StorageResources>();
        Assert.Equal("localhost", storage.Container(DocumentArchive.ContainerName).Uri.Host);
        Assert.Equal("127.0.0.1", storage.Container("trust").Uri.Host);
        Assert.Equal("127.0.0.1", storage.Container("timerleases").Uri.Host);

        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki);
        var id = await payer.SubmitOrderAsync(payer.Order(100m));
        Assert.Equal("executed", (await payer.FinishedAsync(id)).GetProperty("status").GetString());

        // Written through the archive account's client: the document's package (the signed original and the receipt).
        var blobs = new List<string>();
        await foreach (var blob in storage.Container(DocumentArchive.ContainerName).GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }

        Assert.Contains(blobs, b => b.Contains(id, StringComparison.Ordinal) && b.EndsWith("/" + DocumentArchive.PackageName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_the_setting_the_archive_is_a_container_of_the_main_account()
    {
        await using var app = await TestApp.StartAsync();
        var storage = app.Services.GetRequiredService<StorageResources>();
        Assert.Equal(storage.BlobService.Uri.Host, storage.Container(DocumentArchive.ContainerName).Uri.Host);
    }
}
