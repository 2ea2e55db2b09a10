using System.Collections;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Http;

/// <summary>One broken rule on one request field, by a stable code (message key <c>field.{code}</c>).</summary>
public sealed record FieldError(string Field, string Code, IReadOnlyList<object> Arguments)
{
    public FieldError(string field, string code)
        : this(field, code, [])
    {
    }
}

/// <summary>A request body that checks itself; every broken rule is reported at once.</summary>
public interface IValidatable
{
    void Validate(ValidationErrors errors);
}

/// <summary>Collects field errors; helpers cover the common rules.</summary>
public sealed class ValidationErrors : IEnumerable<FieldError>
{
    private readonly List<FieldError> _errors = [];

    public int Count => _errors.Count;

    /// <summary>A sandbox accepts 12-digit identifiers that fail the control digit (Sandbox:AcceptTestIdentifiers).</summary>
    public bool AcceptTestIdentifiers { get; init; }

    public void Add(string field, string code, params object[] arguments) => _errors.Add(new FieldError(field, code, arguments));

    public bool Required<T>(string field, T? value)
    {
        if (value is null || (value is string text && string.IsNullOrWhiteSpace(text)))
        {
            Add(field, "required");
            return false;
        }

        return true;
    }

    public IEnumerator<FieldError> GetEnumerator() => _errors.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Runs <see cref="IValidatable"/> on every bound argument and answers 400 with all field errors.</summary>
public sealed class ValidationFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ValidationErrors? errors = null;
        foreach (var argument in context.Arguments)
        {
            if (argument is IValidatable validatable)
            {
                errors ??= new ValidationErrors
                {
                    AcceptTestIdentifiers = context.HttpContext.RequestServices.GetService<IOptions<Sandbox.SandboxOptions>>()?.Value.AcceptTestIdentifiers ?? false,
                };
                validatable.Validate(errors);
            }
        }

        if (errors is { Count: > 0 })
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        return await next(context);
    }
}
