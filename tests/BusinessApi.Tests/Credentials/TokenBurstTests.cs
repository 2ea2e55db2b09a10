using System.Net;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Credentials;

/// <summary>Bookkeeping after a successful authentication never fails the request.</summary>
public sealed class TokenBurstTests
{
    [Fact]
    public async Task SixtyFourParallelFirstRequests_OfOnePair_AreAll200()
    {
        await using var app = await TestApp.StartAsync();
        await using var sibling = await app.StartSiblingAsync();
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);

        // A new pair from an address it has never seen, on two instances: every request wants to remember the address at once.
        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 64).Select(async i =>
        {
            await start.WaitAsync();
            return await (i % 2 == 0 ? app : sibling).RequestTokenAsync(clientId, secret);
        }).ToList();
        start.Release(64);
        var answers = await Task.WhenAll(requests);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
    }
}
