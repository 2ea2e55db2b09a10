using System.Reflection;
using System.Text.RegularExpressions;

namespace BusinessApi.Tests.Docs;

/// <summary>
/// Checks docs/rules.md against docs/requirements.md and the compiled code: every R-id has a row; every row names
/// symbols of the app and tests that exist, or says it is open and which issue builds it.
/// </summary>
public static partial class RulesIndex
{
    public sealed record Row(string RuleId, IReadOnlyList<string> Symbols, IReadOnlyList<string> Tests, bool Open);

    public static IReadOnlyList<string> RequirementIds(string requirements) =>
        [.. RequirementLine().Matches(requirements).Select(m => m.Groups[1].Value)];

    public static IReadOnlyList<Row> Rows(string rules) =>
        [.. rules.Split('\n').Select(l => l.Trim()).Where(l => RowStart().IsMatch(l)).Select(line =>
        {
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            return new Row(cells[0], Code(cells.ElementAtOrDefault(2)), Code(cells.ElementAtOrDefault(3)),
                cells.ElementAtOrDefault(2)?.StartsWith("*open", StringComparison.Ordinal) == true);
        })];

    /// <summary>What is wrong with the index (empty when it is whole).</summary>
    public static IReadOnlyList<string> Problems(string requirements, string rules, Assembly app, Assembly tests)
    {
        var ids = RequirementIds(requirements);
        var rows = Rows(rules);
        var problems = new List<string>();
        problems.AddRange(ids.Where(id => rows.All(r => r.RuleId != id)).Select(id => $"{id} has no row"));
        problems.AddRange(rows.Where(r => !ids.Contains(r.RuleId)).Select(r => $"{r.RuleId} is not a requirement"));
        problems.AddRange(rows.GroupBy(r => r.RuleId).Where(g => g.Count() > 1).Select(g => $"{g.Key} has {g.Count()} rows"));
        foreach (var row in rows)
        {
            if (row.Open)
            {
                continue;
            }

            if (row.Symbols.Count == 0 || row.Tests.Count == 0)
            {
                problems.Add($"{row.RuleId} names no symbol or no test, and is not marked open");
            }

            problems.AddRange(row.Symbols.Where(s => !Resolves(app, "BusinessApi." + s)).Select(s => $"{row.RuleId}: no symbol {s}"));
            problems.AddRange(row.Tests.Where(t => !ResolvesTest(tests, t)).Select(t => $"{row.RuleId}: no test {t}"));
        }

        return problems;
    }

    /// <summary>A type (<c>Namespace.Type</c>) or a member of one (<c>Namespace.Type.Member</c>).</summary>
    private static bool Resolves(Assembly assembly, string symbol)
    {
        if (assembly.GetType(symbol) is not null)
        {
            return true;
        }

        var dot = symbol.LastIndexOf('.');
        return dot > 0 && assembly.GetType(symbol[..dot]) is { } type
            && type.GetMember(symbol[(dot + 1)..], BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance).Length > 0;
    }

    /// <summary>A test class by its name (<c>Class</c>), or one of its test methods (<c>Class.Method</c>).</summary>
    private static bool ResolvesTest(Assembly assembly, string test)
    {
        var parts = test.Split('.');
        var type = assembly.GetTypes().FirstOrDefault(t => t.Name == parts[0]);
        return type is not null && (parts.Length == 1 || type.GetMethod(parts[1]) is not null);
    }

    private static IReadOnlyList<string> Code(string? cell) =>
        cell is null ? [] : [.. CodeSpan().Matches(cell).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"^- (R-\d+) ", RegexOptions.Multiline)]
    private static partial Regex RequirementLine();

    [GeneratedRegex(@"^\| R-\d+ \|")]
    private static partial Regex RowStart();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();
}
