using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Users;

/// <summary>Sign-in under attack: parallel guessing, a stolen password after it is changed.</summary>
public sealed class SignInAbuseTests
{
    private const string Password = CustomerKit.AdminPassword;

    [Fact]
    public async Task FiftyParallelWrongPasswords_AndTheRightOne_HashAtMostFiveWrongInARow_AndLeaveTheUserLocked()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, userId) = await app.CreateUserAsync(customer);

        using var admin = await app.AdminClientAsync(customer);
        var before = await SignedInCountAsync(admin, userId); // setting the user up signed in once

        var wrong = Enumerable.Range(0, 50).Select(_ => app.RequestSessionAsync(login, "Wrong-Passw0rd!")).ToList();
        var right = app.RequestSessionAsync(login, Password);
        var answers = await Task.WhenAll([.. wrong, right]);

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.Unauthorized or (HttpStatusCode)423, a.StatusCode.ToString()));
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/history?pageSize=1000")).GetProperty("items").EnumerateArray().ToList();
        var evaluatedWrong = history.Count(e => e.GetProperty("action").GetString() == "user.sign_in" && Reason(e) == "wrong_password");
        var signedIn = history.Count(e => e.GetProperty("action").GetString() == "user.signed_in") - before;
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.Created), signedIn);
        if (signedIn == 0)
        {
            // Of 51 guesses five were hashed, all wrong, and they locked the user: the right password does not open it.
            Assert.Equal(5, evaluatedWrong);
            Assert.Equal((HttpStatusCode)423, (await app.RequestSessionAsync(login, Password)).StatusCode);
        }
        else
        {
            // The right one was among the first five and reset the count (R-27: five wrong *in a row*): at most four
            // wrong ones before it and five after it were ever hashed; the rest were refused unhashed.
            Assert.InRange(evaluatedWrong, 0, 9);
        }
    }

    [Fact]
    public async Task FiftyParallelWrongPasswords_ThenTheRightOne_NeverOpenASession()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, userId) = await app.CreateUserAsync(customer);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.RequestSessionAsync(login, "Wrong-Passw0rd!")));
        Assert.Equal(4, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(46, answers.Count(a => a.StatusCode == (HttpStatusCode)423));

        var right = await Problem.ReadAsync(await app.RequestSessionAsync(login, Password));
        Assert.Equal(((HttpStatusCode)423, "account_locked"), (right.Status, right.Code));
        using var admin = await app.AdminClientAsync(customer);
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/history?pageSize=1000")).GetProperty("items").EnumerateArray();
        Assert.Equal(5, history.Count(e => e.GetProperty("action").GetString() == "user.sign_in" && Reason(e) == "wrong_password"));
    }

    [Fact]
    public async Task PasswordChange_EndsTheUsersOtherSessions_AndKeepsTheOneThatChangedIt()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer);
        app.Time.Advance(TimeSpan.FromDays(3)); // past the minimum age of a password
        using var fresh = app.BearerClient(await app.SignInAsync(login, Password));
        using var other = app.BearerClient(await app.SignInAsync(login, Password));
        var changed = await fresh.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "Another-Passw0rd!" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(login, "Another-Passw0rd!")).StatusCode);
    }

    private static async Task<int> SignedInCountAsync(HttpClient admin, string userId) =>
        (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/history?pageSize=1000")).GetProperty("items").EnumerateArray()
            .Count(e => e.GetProperty("action").GetString() == "user.signed_in");

    private static string? Reason(JsonElement entry) =>
        entry.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Object && details.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
}
