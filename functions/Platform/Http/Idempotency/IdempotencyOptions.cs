using System.ComponentModel.DataAnnotations;
namespace BusinessApi.Platform.Http.Idempotency;

public sealed class IdempotencyOptions
{
    public const string Section = "Http:Idempotency";

    /// <summary>How long a first answer is replayed; the contract promises at least 24 hours.</summary>
    [Range(24, 720)]
    public int RetentionHours { get; set; } = 48;

    /// <summary>How long a request may hold its key before another may take over (a crashed process).</summary>
    [Range(1, 3600)]
    public int InFlightLeaseSeconds { get; set; } = 60;
}

/// <summary>Endpoint metadata: this POST honours <c>Idempotency-Key</c> (and may require it).</summary>
public sealed record IdempotentEndpoint(bool KeyRequired);

public static class IdempotencyEndpointExtensions
{
    /// <summary>Replays the first answer for a repeated <c>Idempotency-Key</c>; <paramref name="required"/> makes the header mandatory.</summary>
    public static TBuilder WithIdempotency<TBuilder>(this TBuilder builder, bool required = true)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new IdempotentEndpoint(required));
        return builder;
    }
}
