using System.Text.RegularExpressions;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Docs;

/// <summary>
/// Every relative link in README.md, docs/ and infra/README.md leads to a file or folder of the repository, and
/// every #anchor to a heading of its target (as GitHub makes them). Web addresses are not fetched: the tests run offline.
/// </summary>
public sealed partial class DocsLinksTests
{
    public static TheoryData<string> Documents()
    {
        var files = new TheoryData<string>();
        foreach (var file in new[] { "README.md", Path.Combine("infra", "README.md") }
            .Concat(Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Repository.Root, f)))
            .Order(StringComparer.Ordinal))
        {
            files.Add(file);
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryLink_Resolves(string document) =>
        Assert.Empty(BrokenLinks(Repository.PathOf(document)));

    [Fact]
    public void ABrokenFileLink_AndABrokenAnchor_AreCaught()
    {
        var planted = Path.Combine(Path.GetTempPath(), "docs-links-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(planted);
        try
        {
            File.WriteAllText(Path.Combine(planted, "a.md"), "# A\n\n## Two words\n\n[ok](#two-words) [ok](a.md#a) [gone](b.md) [bad](#three-words)\n```\n[not a link](nowhere.md)\n```\n");
            Assert.Equal(["b.md", "#three-words"], BrokenLinks(Path.Combine(planted, "a.md")));
        }
        finally
        {
            Directory.Delete(planted, recursive: true);
        }
    }

    public static IReadOnlyList<string> BrokenLinks(string file)
    {
        var broken = new List<string>();
        foreach (var target in Links(File.ReadAllText(file)))
        {
            if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var path = hash >= 0 ? target[..hash] : target;
            var anchor = hash >= 0 ? target[(hash + 1)..] : null;
            var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(path)));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add(target);
            }
            else if (anchor is not null && (!File.Exists(resolved) || !Anchors(File.ReadAllText(resolved)).Contains(anchor)))
            {
                broken.Add(target);
            }
        }

        return broken;
    }

    /// <summary>Link targets outside fenced code blocks and inline code.</summary>
    private static IEnumerable<string> Links(string markdown)
    {
        var fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            if (fenced)
            {
                continue;
            }

            foreach (Match link in Link().Matches(InlineCode().Replace(line, "")))
            {
                yield return link.Groups[1].Value;
            }
        }
    }

    /// <summary>The anchors GitHub makes of a file's headings: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static HashSet<string> Anchors(string markdown) =>
        [.. markdown.Split('\n').Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim())
            .Select(h => Punctuation().Replace(h.ToLowerInvariant(), "").Replace(' ', '-'))];

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"[^\p{L}\p{N}\- _]")]
    private static partial Regex Punctuation();
}
