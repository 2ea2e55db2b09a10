namespace BusinessApi.Tests.Architecture;

/// <summary>
/// The layout's rules as pure checks over a <see cref="DependencyGraph"/>'s uses, so each can be shown to catch a
/// planted violation without breaking the app: <c>Platform</c> knows no capability; capabilities form no cycle;
/// endpoint handlers leave the terms' calendar arithmetic to the rules that own it.
/// </summary>
public static class ArchitectureRules
{
    public const string Root = "BusinessApi.";
    public const string Platform = "Platform";

    /// <summary>The calendar arithmetic deadlines are made of: outside the calendar's own endpoints, a handler calls a named rule instead.</summary>
    public static readonly IReadOnlySet<string> DeadlineArithmetic = new HashSet<string>(StringComparer.Ordinal)
    {
        "AddWorkingDays", "NextWorkingDay", "EndOfOperationalDay", "StartOfOperationalDay", "OperationalDayOfReceipt", "AddOperationalDays",
    };

    public const string CalendarType = "BusinessApi.Calendar.BankCalendar";

    /// <summary>The top-level part of the app a type belongs to (<c>Documents</c>, <c>Platform</c>, …), or null for the composition root and outside types.</summary>
    public static string? AreaOf(string typeName)
    {
        if (!typeName.StartsWith(Root, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = typeName[Root.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? rest[..dot] : null; // BusinessApi.FunctionsApp: the composition root, which may use everything
    }

    public static IReadOnlyList<string> PlatformUsingCapabilities(IEnumerable<DependencyGraph.TypeUse> uses) =>
        [.. uses.Where(u => AreaOf(u.From) == Platform && AreaOf(u.To) is { } to && to != Platform)
            .Select(u => $"{u.From} uses {u.To}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Every cycle among capabilities, each as "A → B → A" (empty when they form a DAG).</summary>
    public static IReadOnlyList<string> CapabilityCycles(IEnumerable<DependencyGraph.TypeUse> uses)
    {
        var edges = uses
            .Select(u => (From: AreaOf(u.From), To: AreaOf(u.To)))
            .Where(e => e.From is not null && e.To is not null && e.From != e.To && e.From != Platform && e.To != Platform)
            .Distinct()
            .GroupBy(e => e.From!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.To!).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var cycles = new SortedSet<string>(StringComparer.Ordinal);
        var path = new List<string>();
        void Visit(string node)
        {
            var at = path.IndexOf(node);
            if (at >= 0)
            {
                var cycle = path[at..];
                var start = cycle.IndexOf(cycle.Min(StringComparer.Ordinal)!); // one name per cycle, whichever node it was found from
                cycles.Add(string.Join(" → ", [.. cycle[start..], .. cycle[..start], cycle[start]]));
                return;
            }

            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node) ?? [])
            {
                Visit(next);
            }

            path.RemoveAt(path.Count - 1);
        }

        foreach (var node in edges.Keys.Order(StringComparer.Ordinal))
        {
            Visit(node);
        }

        return [.. cycles];
    }

    /// <summary>Endpoint handlers outside the calendar that compute a deadline themselves instead of calling its rule.</summary>
    public static IReadOnlyList<string> HandlersHoldingDeadlineRules(DependencyGraph graph, IEnumerable<DependencyGraph.TypeUse>? uses = null) =>
        [.. (uses ?? graph.Uses)
            .Where(u => u.Method is not null && graph.Handlers.Contains((u.From, u.Method)) && AreaOf(u.From) is { } area && area != "Calendar"
                && u.To == CalendarType && u.Member is not null && DeadlineArithmetic.Contains(u.Member))
            .Select(u => $"{u.From}.{u.Method} calls BankCalendar.{u.Member}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
