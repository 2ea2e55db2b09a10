using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace BusinessApi.Tests.Deployment;

/// <summary>A value an ARM expression yields only at deployment time (a reference to another resource's state).</summary>
internal sealed record DeploymentTimeValue(string Expression)
{
    /// <summary>How such a value is kept inside evaluated JSON.</summary>
    public const string Marker = "\u27e8deployment-time\u27e9 ";

    public override string ToString() => Marker + Expression;

    public static bool IsOne(JsonNode? node) => ArmTemplate.Text(node)?.StartsWith(Marker, StringComparison.Ordinal) == true;
}

/// <summary>
/// A compiled ARM template (language version 2.0, as Bicep writes it) with its parameter values, able to
/// evaluate the expressions in it — the deterministic subset (parameters, variables, format, coalesce, …);
/// whatever depends on deployed state (<c>reference</c>, <c>listKeys</c>) becomes a
/// <see cref="DeploymentTimeValue"/>. Modules are nested deployments, evaluated with the values the
/// parent passes, so a test can ask what a property of a resource three modules down will be in prod.
/// </summary>
internal sealed class ArmTemplate
{
    private readonly JsonObject _template;
    private readonly Dictionary<string, JsonNode?> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.OrdinalIgnoreCase);
    // The index of each variable copy loop being evaluated (copyIndex('name')).
    private readonly Dictionary<string, long> _copyIndex = new(StringComparer.OrdinalIgnoreCase);

    public ArmTemplate(JsonObject template, IReadOnlyDictionary<string, JsonNode?> parameterValues, string deploymentName = "main")
    {
        _template = template;
        DeploymentName = deploymentName;
        foreach (var (name, definition) in template["parameters"]?.AsObject() ?? [])
        {
            if (parameterValues.TryGetValue(name, out var given))
            {
                _parameters[name] = given?.DeepClone();
            }
            else if (definition!["defaultValue"] is { } fallback)
            {
                _parameters[name] = Evaluate(fallback);
            }
            else if (definition["nullable"]?.GetValue<bool>() == true)
            {
                _parameters[name] = null;
            }
            else
            {
                throw new InvalidOperationException($"{deploymentName}: parameter '{name}' has no value");
            }
        }
    }

    public string DeploymentName { get; }

    public JsonObject Definition => _template;

    /// <summary>Resources of this template (not of its modules), by symbolic name.</summary>
    public IEnumerable<(string Symbol, JsonObject Resource)> Resources =>
        _template["resources"] switch
        {
            JsonObject byName => byName.Select(p => (p.Key, p.Value!.AsObject())),
            JsonArray list => list.Select((r, i) => (i.ToString(CultureInfo.InvariantCulture), r!.AsObject())),
            _ => [],
        };

    /// <summary>The resources of this template and of every module below it, each with the template that evaluates it.</summary>
    public IEnumerable<(ArmTemplate Template, JsonObject Resource)> AllResources()
    {
        foreach (var (_, resource) in Resources)
        {
            if (resource["existing"]?.GetValue<bool>() == true)
            {
                continue;
            }

            if (Text(resource["type"]) == "Microsoft.Resources/deployments")
            {
                foreach (var inner in Module(resource).AllResources())
                {
                    yield return inner;
                }
            }
            else
            {
                yield return (this, resource);
            }
        }
    }

    /// <summary>A module's template, with the parameter values this template passes it.</summary>
    public ArmTemplate Module(JsonObject deployment)
    {
        var properties = deployment["properties"]!.AsObject();
        var values = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, parameter) in properties["parameters"]?.AsObject() ?? [])
        {
            values[name] = Evaluate(parameter!["value"]);
        }

        return new ArmTemplate(properties["template"]!.AsObject(), values, Text(Evaluate(deployment["name"])) ?? "module");
    }

    /// <summary>The nested deployment (module) named <paramref name="name"/>, as written in this template.</summary>
    public JsonObject DeploymentNamed(string name) =>
        Resources.Select(r => r.Resource).Single(r => Text(r["type"]) == "Microsoft.Resources/deployments" && Text(Evaluate(r["name"])) == name);

    public ArmTemplate ModuleNamed(string name) => Module(DeploymentNamed(name));

    public JsonNode? Parameter(string name) => _parameters[name];

    /// <summary>A JSON value with every expression in it evaluated.</summary>
    public JsonNode? Evaluate(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var result = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    result[key] = Evaluate(value);
                }

                return result;
            case JsonArray array:
                return new JsonArray(array.Select(Evaluate).ToArray());
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (text.StartsWith("[[", StringComparison.Ordinal))
                {
                    return JsonValue.Create(text[1..]);
                }

                if (text.StartsWith('[') && text.EndsWith(']'))
                {
                    return ToNode(new Parser(text[1..^1], this).ParseAll());
                }

                return value.DeepClone();
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Evaluates <paramref name="path"/> (dot-separated, <c>[n]</c> for array items) of a resource.</summary>
    public JsonNode? Get(JsonObject resource, string path)
    {
        JsonNode? current = resource;
        foreach (var part in path.Split('.'))
        {
            var name = part;
            int? index = null;
            if (part.EndsWith(']'))
            {
                var open = part.IndexOf('[', StringComparison.Ordinal);
                index = int.Parse(part[(open + 1)..^1], CultureInfo.InvariantCulture);
                name = part[..open];
            }

            current = Evaluate(current?[name]);
            if (index is { } i)
            {
                current = current?[i];
            }
        }

        return current;
    }

    public static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal object? Variable(string name)
    {
        if (!_variables.TryGetValue(name, out var value))
        {
            // A Bicep for-expression variable compiles to an entry of variables.copy: count, and input per copyIndex.
            var loop = (_template["variables"]?["copy"] as JsonArray)?.FirstOrDefault(c => string.Equals(Text(c?["name"]), name, StringComparison.OrdinalIgnoreCase));
            if (loop is not null)
            {
                var items = new JsonArray();
                var count = (long)FromNode(Evaluate(loop["count"]))!;
                for (var i = 0L; i < count; i++)
                {
                    _copyIndex[name] = i;
                    items.Add(Evaluate(loop["input"]?.DeepClone()));
                }

                _copyIndex.Remove(name);
                value = items;
            }
            else
            {
                var definition = _template["variables"]?[name] ?? throw new InvalidOperationException($"{DeploymentName}: no variable '{name}'");
                value = Evaluate(definition);
            }

            _variables[name] = value;
        }

        return FromNode(value);
    }

    internal object? ParameterValue(string name) =>
        _parameters.TryGetValue(name, out var value) ? FromNode(value) : throw new InvalidOperationException($"{DeploymentName}: no parameter '{name}'");

    internal static object? FromNode(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s.StartsWith(DeploymentTimeValue.Marker, StringComparison.Ordinal) ? new DeploymentTimeValue(s[DeploymentTimeValue.Marker.Length..]) : s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<int>(out var i) => (long)i,
        _ => node.DeepClone(),
    };

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create((long)i),
        DeploymentTimeValue d => JsonValue.Create(d.ToString()),
        JsonNode n => n.DeepClone(),
        _ => throw new InvalidOperationException($"unexpected value {value.GetType().Name}"),
    };

    /// <summary><c>tryGet(value, key, …)</c>: null from a null value or a missing key; a deployment-time value stays one.</summary>
    private static object? TryGet(List<object?> a)
    {
        var current = a[0];
        foreach (var key in a.Skip(1))
        {
            current = current switch
            {
                null => null,
                DeploymentTimeValue d => d,
                JsonObject o => FromNode(o[(string)key!]),
                JsonArray arr => FromNode(arr[(int)(long)key!]),
                _ => throw new FormatException("tryGet of a scalar"),
            };
        }

        return current;
    }

    /// <summary>A recursive-descent parser and evaluator of one ARM expression.</summary>
    private sealed class Parser(string text, ArmTemplate template)
    {
        private int _at;

        public object? ParseAll()
        {
            var value = Expression();
            Skip();
            if (_at != text.Length)
            {
                throw new FormatException($"unexpected '{text[_at..]}' in [{text}]");
            }

            return value;
        }

        private object? Expression()
        {
            Skip();
            var value = Primary();
            while (true)
            {
                Skip();
                if (Peek('.'))
                {
                    _at++;
                    var member = Identifier();
                    value = Member(value, member);
                }
                else if (Peek('['))
                {
                    _at++;
                    var key = Expression();
                    Expect(']');
                    value = Index(value, key);
                }
                else
                {
                    return value;
                }
            }
        }

        private object? Primary()
        {
            if (Peek('\''))
            {
                return StringLiteral();
            }

            if (char.IsDigit(text[_at]) || text[_at] == '-')
            {
                var start = _at++;
                while (_at < text.Length && char.IsDigit(text[_at]))
                {
                    _at++;
                }

                return long.Parse(text[start.._at], CultureInfo.InvariantCulture);
            }

            var name = Identifier();
            Skip();
            Expect('(');
            var arguments = new List<object?>();
            Skip();
            if (!Peek(')'))
            {
                do
                {
                    arguments.Add(Expression());
                    Skip();
                }
                while (TryTake(','));
            }

            Expect(')');
            return Call(name, arguments);
        }

        private object? Call(string name, List<object?> a)
        {
            if (a.Any(x => x is DeploymentTimeValue) && name is not ("coalesce" or "if" or "createArray" or "createObject"))
            {
                return new DeploymentTimeValue(name + "(…)");
            }

            return name.ToLowerInvariant() switch
            {
                "parameters" => template.ParameterValue((string)a[0]!),
                "variables" => template.Variable((string)a[0]!),
                "copyindex" when a.Count > 0 && a[0] is string loop && template._copyIndex.TryGetValue(loop, out var index) => index + (a.Count > 1 ? (long)a[1]! : 0),
                "format" => Format((string)a[0]!, a.Skip(1).ToArray()),
                "concat" => a.All(x => x is string) ? string.Concat(a.Cast<string>()) : new JsonArray(a.SelectMany(Items).Select(ToNode).ToArray()),
                "take" => a[0] is string s ? s[..(int)Math.Min(s.Length, (long)a[1]!)] : new JsonArray(Items(a[0]).Take((int)(long)a[1]!).Select(ToNode).ToArray()),
                "tolower" => ((string)a[0]!).ToLowerInvariant(),
                "string" => a[0] is string s2 ? s2 : ToNode(a[0])!.ToJsonString(),
                "int" => a[0] is string s3 ? long.Parse(s3, CultureInfo.InvariantCulture) : (long)a[0]!,
                "json" => FromNode(JsonNode.Parse((string)a[0]!)),
                "bool" => a[0] is string s4 ? bool.Parse(s4) : (bool)a[0]!,
                "true" => true,
                "false" => false,
                "null" => null,
                "equals" => JsonNode.DeepEquals(ToNode(a[0]), ToNode(a[1])),
                "not" => !(bool)a[0]!,
                "and" => a.All(x => (bool)x!),
                "or" => a.Any(x => (bool)x!),
                "if" => (bool)a[0]! ? a[1] : a[2],
                "coalesce" => a.FirstOrDefault(x => x is not null),
                "greater" => Convert.ToInt64(a[0], CultureInfo.InvariantCulture) > Convert.ToInt64(a[1], CultureInfo.InvariantCulture),
                "less" => Convert.ToInt64(a[0], CultureInfo.InvariantCulture) < Convert.ToInt64(a[1], CultureInfo.InvariantCulture),
                "tryget" => TryGet(a),
                "empty" => a[0] switch { null => true, string s5 => s5.Length == 0, JsonArray arr => arr.Count == 0, JsonObject o => o.Count == 0, _ => false },
                "length" => a[0] switch { string s6 => (long)s6.Length, JsonArray arr => arr.Count, JsonObject o => o.Count, _ => throw new FormatException("length") },
                "last" => a[0] is JsonArray arr2 ? FromNode(arr2[^1]) : ((string)a[0]!)[^1..],
                "split" => new JsonArray(((string)a[0]!).Split((string)a[1]!).Select(x => (JsonNode)JsonValue.Create(x)).ToArray()),
                "createarray" => new JsonArray(a.Select(ToNode).ToArray()),
                "createobject" => CreateObject(a),
                "union" => Union(a),
                "contains" => a[0] switch { string s7 => s7.Contains((string)a[1]!, StringComparison.Ordinal), JsonArray arr3 => arr3.Any(x => JsonNode.DeepEquals(x, ToNode(a[1]))), JsonObject o2 => o2.ContainsKey((string)a[1]!), _ => false },
                "uniquestring" => UniqueString(a),
                "guid" => Guid(a),
                "subscription" => FromNode(new JsonObject { ["id"] = "/subscriptions/00000000-0000-0000-0000-000000000001", ["subscriptionId"] = "00000000-0000-0000-0000-000000000001" }),
                "resourcegroup" => FromNode(new JsonObject { ["id"] = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-test", ["name"] = "rg-test", ["location"] = "westeurope" }),
                "tenant" => FromNode(new JsonObject { ["tenantId"] = "00000000-0000-0000-0000-0000000000aa" }),
                "subscriptionresourceid" => "/subscriptions/00000000-0000-0000-0000-000000000001/providers/" + ResourcePath(a),
                "resourceid" => "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-test/providers/" + ResourcePath(a),
                "extensionresourceid" => (string)a[0]! + "/providers/" + ResourcePath(a.Skip(1).ToList()),
                _ => new DeploymentTimeValue(name + "(…)"), // reference, listKeys, copyIndex, …
            };
        }

        private static IEnumerable<object?> Items(object? value) => value is JsonArray array ? array.Select(FromNode) : [value];

        private static JsonObject CreateObject(List<object?> a)
        {
            var result = new JsonObject();
            for (var i = 0; i + 1 < a.Count; i += 2)
            {
                result[(string)a[i]!] = ToNode(a[i + 1]);
            }

            return result;
        }

        private static JsonObject Union(List<object?> a)
        {
            var result = new JsonObject();
            foreach (var part in a.OfType<JsonObject>())
            {
                foreach (var (key, value) in part)
                {
                    result[key] = value?.DeepClone();
                }
            }

            return result;
        }

        private static string ResourcePath(List<object?> a)
        {
            var type = (string)a[0]!;
            var names = a.Skip(1).Cast<string>().ToList();
            var segments = type.Split('/');
            var path = new StringBuilder(segments[0] + "/" + segments[1] + "/" + names[0]);
            for (var i = 1; i < names.Count; i++)
            {
                path.Append('/').Append(segments[i + 1]).Append('/').Append(names[i]);
            }

            return path.ToString();
        }

        private static string UniqueString(List<object?> a) =>
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', a))))[..13];

        private static string Guid(List<object?> a) =>
            new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', a)))[..16]).ToString();

        private static string Format(string pattern, object?[] values) =>
            string.Format(CultureInfo.InvariantCulture, pattern, values.Select(v => v is JsonNode n ? n.ToJsonString() : v).ToArray());

        private static object? Member(object? value, string member) => value switch
        {
            DeploymentTimeValue d => d,
            JsonObject obj => obj.TryGetPropertyValue(member, out var found) ? FromNode(found) : throw new FormatException($"no property '{member}'"),
            _ => throw new FormatException($"'.{member}' on {value}"),
        };

        private static object? Index(object? value, object? key) => (value, key) switch
        {
            (DeploymentTimeValue d, _) => d,
            (_, DeploymentTimeValue d) => d,
            (JsonObject obj, string name) => obj.TryGetPropertyValue(name, out var found) ? FromNode(found) : throw new FormatException($"no property '{name}'"),
            (JsonArray array, long i) => FromNode(array[(int)i]),
            _ => throw new FormatException($"[{key}] on {value}"),
        };

        private string StringLiteral()
        {
            Expect('\'');
            var result = new StringBuilder();
            while (true)
            {
                if (text[_at] == '\'')
                {
                    if (_at + 1 < text.Length && text[_at + 1] == '\'')
                    {
                        result.Append('\'');
                        _at += 2;
                        continue;
                    }

                    _at++;
                    return result.ToString();
                }

                result.Append(text[_at++]);
            }
        }

        private string Identifier()
        {
            Skip();
            var start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] == '_'))
            {
                _at++;
            }

            if (start == _at)
            {
                throw new FormatException($"identifier expected at {_at} in [{text}]");
            }

            return text[start.._at];
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        private bool Peek(char c) => _at < text.Length && text[_at] == c;

        private bool TryTake(char c)
        {
            Skip();
            if (!Peek(c))
            {
                return false;
            }

            _at++;
            return true;
        }

        private void Expect(char c)
        {
            Skip();
            if (!Peek(c))
            {
                throw new FormatException($"'{c}' expected at {_at} in [{text}]");
            }

            _at++;
        }
    }
}
