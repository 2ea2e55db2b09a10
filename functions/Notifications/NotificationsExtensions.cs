using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Notifications;

public static class NotificationsExtensions
{
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddStorageTable(NoticeStore.TableName);
        services.AddSingleton<NoticeStore>();
        return services;
    }

    public static void MapNotifications(this RouteGroupBuilder api)
    {
        api.MapGet("/notifications", ReadFeedAsync)
            .RequireCustomerScope(CustomerAccess.NotificationsRead)
            .WithName("ReadNotifications")
            .WithTags("Notifications")
            .WithSummary("The customer's notices, oldest first, after a cursor (pass the last item's cursor, or the answer's `after`).")
            .ProducesValidationProblem();
    }

    private static async Task<Results<Ok<NoticeFeedResponse>, ProblemResult>> ReadFeedAsync(
        string? after, int? pageSize, HttpContext context, NoticeStore notices, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var (size, _) = Paging.Read(errors, pageSize, null);
        if (after is not null && !NoticeStore.IsWellFormedCursor(after))
        {
            errors.Add("after", "invalid_value");
        }

        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var language = ApiLanguages.Resolve(context.Request).Tag();
        var items = await notices.ReadAsync(context.User.CustomerId()!, after, size, cancellationToken);
        return TypedResults.Ok(new NoticeFeedResponse(
            [.. items.Select(n => new NoticeResponse(n.NoticeId, n.Kind, n.CreatedAt, n.Subject,
                n.Texts.TryGetValue(language, out var text) ? text : n.Texts.GetValueOrDefault("ru", n.Kind), n.Texts, n.Cursor))],
            items.Count > 0 ? items[^1].Cursor : after));
    }
}

public sealed record NoticeResponse(string NoticeId, string Kind, DateTimeOffset CreatedAt, string? Subject, string Text, IReadOnlyDictionary<string, string> Texts, string Cursor);

/// <param name="Items">Oldest first.</param>
/// <param name="After">Pass as <c>after</c> to read what comes next (unchanged when nothing new).</param>
public sealed record NoticeFeedResponse(IReadOnlyList<NoticeResponse> Items, string? After);
