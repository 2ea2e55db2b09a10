using Azure.Data.Tables;
using BusinessApi.Customers;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using BusinessApi.Platform.Security;

namespace BusinessApi.Notifications;

public static class NotificationsExtensions
{
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<NotificationOptions>()
            .Bind(configuration.GetSection(NotificationOptions.Section))
            .PostConfigure(o => o.AllowLoopbackHttp |= environment.IsDevelopment())
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(NoticeStore.TableName);
        services.AddStorageTable(NoticeStore.DueTable);
        services.AddStorageTable(NoticeAlerts.TableName);
        services.AddSingleton<NoticeStore>();
        services.AddSingleton<NoticeChannel>();
        services.AddSingleton<NoticeAlerts>();
        services.AddSingleton<WebhookSigner>();
        services.AddSingleton<WebhookSender>();
        services.AddWorkflow<NoticeDeliveryWorkflow>();
        services.AddScheduledJob<NoticeDeadlineJob>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Notifications.Resources.NotificationTexts", typeof(NotificationsExtensions).Assembly)));
        return services;
    }

    public static void MapNotifications(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        api.MapGet("/notifications", ReadFeedAsync)
            .RequireCustomerScope(CustomerAccess.NotificationsRead)
            .WithMetadata(AllowedWhileSuspended.Instance)
            .WithName("ReadNotifications")
            .WithTags("Notifications")
            .WithSummary("The customer's notices, oldest first, after a cursor (pass the last item's cursor, or the answer's `after`). Reading a notice here delivers it.")
            .ProducesValidationProblem();

        // Reading the subscriptions needs the read scope (and works while suspended); changing where notices go
        // needs notifications.manage and is refused while the customer is suspended (e.g. for unauthorised access).
        var webhookReads = api.MapGroup("/webhooks")
            .RequireCustomerScope(CustomerAccess.NotificationsRead)
            .WithMetadata(AllowedWhileSuspended.Instance)
            .WithTags("Notifications")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        var webhooks = api.MapGroup("/webhooks")
            .RequireCustomerScope(CustomerAccess.NotificationsManage)
            .WithMetadata(RefusedWhileSuspended.Instance)
            .WithTags("Notifications")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        webhooks.MapPost("/", CreateWebhookAsync)
            .WithName("CreateWebhook")
            .WithSummary("Subscribe a URL to notices (events: notice kinds, or *). The signing secret is in this answer only.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        webhookReads.MapGet("/", ListWebhooksAsync)
            .WithName("ListWebhooks")
            .WithSummary("The customer's webhook subscriptions.");
        webhookReads.MapGet("/{webhookId}", GetWebhookAsync)
            .WithName("GetWebhook")
            .WithSummary("One webhook subscription.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        webhooks.MapPost("/{webhookId}/secret", RotateSecretAsync)
            .WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret (in this answer only); the old one stops signing at once.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        webhooks.MapDelete("/{webhookId}", DeleteWebhookAsync)
            .WithName("DeleteWebhook")
            .WithSummary("Unsubscribe; deliveries not yet made to it are dropped (the feed keeps every notice).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        ops.MapGet("/notices/alerts", AlertsAsync)
            .WithName("ListNoticeAlerts")
            .WithTags("Notifications")
            .WithSummary("Notices not delivered by their legal deadline (kind=overdue) and webhook deliveries given up (kind=deadLetter).")
            .ProducesValidationProblem();
        ops.MapPost("/customers/{customerId}/notifications/{noticeId}/redelivery", RedeliverAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("RedeliverNotice")
            .WithTags("Notifications")
            .WithSummary("Deliver a notice to a webhook again (after a dead letter, once the receiver is fixed): a new delivery with the same webhook-id and a fresh 24-hour retry window.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapGet("/customers/{customerId}/notifications", OperatorFeedAsync)
            .WithName("ReadCustomerNotifications")
            .WithTags("Notifications")
            .WithSummary("A customer's notices with their deadlines and delivery state (reading here does not deliver them).")
            .ProducesValidationProblem();
    }

    private static async Task<Results<Ok<NoticeFeedResponse>, ProblemResult>> ReadFeedAsync(
        string? after, int? pageSize, HttpContext context, NoticeStore notices, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ReadPage(after, pageSize, out var size) is { } problem)
        {
            return problem;
        }

        var language = ApiLanguages.Resolve(context.Request).Tag();
        var items = await notices.ReadAsync(context.User.CustomerId()!, after, size, cancellationToken);
        items = await notices.MarkFedAsync(items, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(new NoticeFeedResponse([.. items.Select(n => NoticeResponse.From(n, language))], items.Count > 0 ? items[^1].Cursor : after));
    }

    private static async Task<Results<Ok<NoticeFeedResponse>, ProblemResult>> OperatorFeedAsync(
        string customerId, string? after, int? pageSize, HttpContext context, NoticeStore notices, CancellationToken cancellationToken)
    {
        if (ReadPage(after, pageSize, out var size) is { } problem)
        {
            return problem;
        }

        var items = Customer.IsWellFormedId(customerId) ? await notices.ReadAsync(customerId, after, size, cancellationToken) : [];
        var language = ApiLanguages.Resolve(context.Request).Tag();
        return TypedResults.Ok(new NoticeFeedResponse([.. items.Select(n => NoticeResponse.From(n, language))], items.Count > 0 ? items[^1].Cursor : after));
    }

    private static async Task<Results<Accepted, ProblemResult>> RedeliverAsync(
        string customerId, string noticeId, RedeliveryRequest request, HttpContext context, NoticeStore notices, NoticeAlerts alerts,
        WorkflowEngine engine, NoticeDeliveryWorkflow workflow, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (!Customer.IsWellFormedId(customerId) || !NoticeStore.IsWellFormedId(noticeId)
            || await notices.GetByIdAsync(customerId, noticeId, cancellationToken) is not { } notice)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        if (!WebhookSubscription.IsWellFormedId(request.WebhookId) || await notices.GetWebhookAsync(customerId, request.WebhookId!, cancellationToken) is null)
        {
            return ProblemResult.For(NotificationProblems.WebhookNotFound);
        }

        var now = time.GetUtcNow();
        var instanceId = $"{noticeId}-r{now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        await engine.StartAsync(workflow, NoticeStore.DeliveryLocation(customerId, instanceId), instanceId,
            new NoticeDelivery(customerId, noticeId, notice.Sequence, notice.Kind, [new DeliveryTarget(request.WebhookId!) { NextAttemptAt = now }]), cancellationToken: cancellationToken);
        await alerts.DeleteAsync(NoticeAlerts.DeadLetter, customerId, noticeId, cancellationToken, request.WebhookId);
        await audit.AppendAsync(new AuditRecord(customerId, context.User.Actor(), "notice.redelivery_requested", AuditOutcome.Success)
        {
            Target = "webhooks/" + request.WebhookId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string> { ["noticeId"] = noticeId },
        }, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static ProblemResult? ReadPage(string? after, int? pageSize, out int size)
    {
        var errors = new ValidationErrors();
        (size, _) = Paging.Read(errors, pageSize, null);
        if (after is not null && !NoticeStore.IsWellFormedCursor(after))
        {
            errors.Add("after", "invalid_value");
        }

        return errors.Count > 0 ? ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] }) : null;
    }

    private static async Task<Results<Created<WebhookCreatedResponse>, ProblemResult>> CreateWebhookAsync(
        WebhookRequest request, HttpContext context, NoticeStore notices, WebhookSigner signer, AuditJournal audit,
        IOptions<NotificationOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors();
        if (WebhookUrls.Problem(request.Url, options.Value.AllowLoopbackHttp) is { } urlProblem)
        {
            errors.Add("url", urlProblem);
        }

        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var customerId = context.User.CustomerId()!;
        var existing = await notices.ListWebhooksAsync(customerId, cancellationToken);
        var url = new Uri(request.Url!);
        if (existing.FirstOrDefault(w => w.Url == url) is { } same)
        {
            return ProblemResult.For(new ApiProblem(NotificationProblems.WebhookExists) { Extensions = new Dictionary<string, object?> { ["webhookId"] = same.WebhookId } });
        }

        if (existing.Count >= options.Value.MaxWebhooksPerCustomer)
        {
            return ProblemResult.For(NotificationProblems.WebhookLimit, options.Value.MaxWebhooksPerCustomer);
        }

        var now = time.GetUtcNow();
        var webhook = new WebhookSubscription(WebhookSubscription.NewId(), customerId, url, [.. request.Events!.Distinct(StringComparer.Ordinal)], now)
        {
            KeyVersion = await signer.CurrentKeyVersionAsync(cancellationToken),
            CreatedBy = context.User.Actor(),
        };
        await notices.ChangeWebhookAsync(customerId, new TableTransactionAction(TableTransactionActionType.Add, webhook.ToEntity()), now, cancellationToken);
        await AuditAsync(audit, webhook, context, "webhook.created", cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/webhooks/{webhook.WebhookId}",
            new WebhookCreatedResponse(WebhookResponse.From(webhook), await signer.SecretAsync(webhook, cancellationToken)));
    }

    private static async Task<Ok<WebhookListResponse>> ListWebhooksAsync(HttpContext context, NoticeStore notices, CancellationToken cancellationToken) =>
        TypedResults.Ok(new WebhookListResponse([.. (await notices.ListWebhooksAsync(context.User.CustomerId()!, cancellationToken))
            .OrderBy(w => w.CreatedAt).Select(WebhookResponse.From)]));

    private static async Task<Results<Ok<WebhookResponse>, ProblemResult>> GetWebhookAsync(
        string webhookId, HttpContext context, NoticeStore notices, CancellationToken cancellationToken) =>
        await FindAsync(webhookId, context, notices, cancellationToken) is { } webhook
            ? TypedResults.Ok(WebhookResponse.From(webhook))
            : ProblemResult.For(NotificationProblems.WebhookNotFound);

    private static async Task<Results<Ok<WebhookCreatedResponse>, ProblemResult>> RotateSecretAsync(
        string webhookId, HttpContext context, NoticeStore notices, WebhookSigner signer, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(webhookId, context, notices, cancellationToken) is not { } webhook)
        {
            return ProblemResult.For(NotificationProblems.WebhookNotFound);
        }

        var rotated = webhook with { Generation = webhook.Generation + 1, KeyVersion = await signer.CurrentKeyVersionAsync(cancellationToken) };
        await notices.ChangeWebhookAsync(webhook.CustomerId, new TableTransactionAction(TableTransactionActionType.UpdateReplace, rotated.ToEntity()), time.GetUtcNow(), cancellationToken);
        await AuditAsync(audit, rotated, context, "webhook.secret_rotated", cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WebhookCreatedResponse(WebhookResponse.From(rotated), await signer.SecretAsync(rotated, cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemResult>> DeleteWebhookAsync(
        string webhookId, HttpContext context, NoticeStore notices, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(webhookId, context, notices, cancellationToken) is not { } webhook)
        {
            return ProblemResult.For(NotificationProblems.WebhookNotFound);
        }

        await notices.ChangeWebhookAsync(webhook.CustomerId, new TableTransactionAction(TableTransactionActionType.Delete, webhook.ToEntity(), Azure.ETag.All), time.GetUtcNow(), cancellationToken);
        await AuditAsync(audit, webhook, context, "webhook.deleted", cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<NoticeAlertListResponse>, ProblemResult>> AlertsAsync(string? kind, NoticeAlerts alerts, CancellationToken cancellationToken)
    {
        if (kind is not (NoticeAlerts.Overdue or NoticeAlerts.DeadLetter))
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("kind", "invalid_value")] });
        }

        var items = await alerts.ListAsync(kind, 1000, cancellationToken);
        return TypedResults.Ok(new NoticeAlertListResponse(items.Count, items));
    }

    private static async Task<WebhookSubscription?> FindAsync(string webhookId, HttpContext context, NoticeStore notices, CancellationToken cancellationToken) =>
        WebhookSubscription.IsWellFormedId(webhookId) ? await notices.GetWebhookAsync(context.User.CustomerId()!, webhookId, cancellationToken) : null;

    private static Task<AuditEntry> AuditAsync(AuditJournal audit, WebhookSubscription webhook, HttpContext context, string action, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditRecord(webhook.CustomerId, context.User.Actor(), action, AuditOutcome.Success)
        {
            Target = "webhooks/" + webhook.WebhookId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string> { ["url"] = webhook.Url.GetLeftPart(UriPartial.Path), ["events"] = string.Join(' ', webhook.Events) },
        }, cancellationToken);
}

public static class NotificationProblems
{
    public static readonly ProblemType WebhookNotFound = new("webhook_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType WebhookExists = new("webhook_exists", StatusCodes.Status409Conflict);
    public static readonly ProblemType WebhookLimit = new("webhook_limit", StatusCodes.Status409Conflict);
}

public sealed record RedeliveryRequest(string? WebhookId) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("webhookId", WebhookId);
    }
}

/// <param name="Url">HTTPS (plain HTTP to loopback only in development).</param>
/// <param name="Events">Notice kinds to receive, or <c>*</c> for all.</param>
public sealed record WebhookRequest(string? Url, IReadOnlyList<string>? Events) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("url", Url);
        if (Events is not { Count: > 0 })
        {
            errors.Add("events", "required");
        }
        else if (Events.Count > 50 || Events.Any(e => e != WebhookSubscription.AllEvents && !NoticeKinds.All.Contains(e, StringComparer.Ordinal)))
        {
            errors.Add("events", "unknown_event", string.Join(", ", NoticeKinds.All));
        }
    }
}

/// <param name="LastAttempt">The last delivery attempt: when, <c>delivered</c> / <c>failed</c> / <c>deadLettered</c>, your receiver's status or the error.</param>
public sealed record WebhookResponse(string WebhookId, string Url, IReadOnlyList<string> Events, DateTimeOffset CreatedAt, int SecretGeneration,
    WebhookAttempt? LastAttempt, DateTimeOffset? LastDeliveredAt)
{
    public static WebhookResponse From(WebhookSubscription webhook)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return new(webhook.WebhookId, webhook.Url.AbsoluteUri, webhook.Events, webhook.CreatedAt, webhook.Generation, webhook.LastAttempt, webhook.LastDeliveredAt);
    }
}

/// <param name="Secret">The signing secret (<c>whsec_</c> + base64 key): shown only in this answer.</param>
public sealed record WebhookCreatedResponse(WebhookResponse Webhook, string Secret);

public sealed record WebhookListResponse(IReadOnlyList<WebhookResponse> Items);

public sealed record NoticeAlertListResponse(int Count, IReadOnlyList<NoticeAlert> Items);

/// <param name="DeliverBy">The terms' deadline for this notice to reach the customer, if any.</param>
/// <param name="DeliveredAt">When it reached the customer: read from this feed, or acknowledged by a webhook.</param>
public sealed record NoticeResponse(
    string NoticeId, string Kind, DateTimeOffset CreatedAt, string? Subject, string Text, IReadOnlyDictionary<string, string> Texts, string Cursor,
    DateTimeOffset? DeliverBy, DateTimeOffset? DeliveredAt)
{
    public static NoticeResponse From(Notice notice, string language)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return new(notice.NoticeId, notice.Kind, notice.CreatedAt, notice.Subject,
            notice.Texts.TryGetValue(language, out var text) ? text : notice.Texts.GetValueOrDefault("ru", notice.Kind), notice.Texts, notice.Cursor,
            notice.DeliverBy, notice.DeliveredAt);
    }
}

/// <param name="Items">Oldest first.</param>
/// <param name="After">Pass as <c>after</c> to read what comes next (unchanged when nothing new).</param>
public sealed record NoticeFeedResponse(IReadOnlyList<NoticeResponse> Items, string? After);
