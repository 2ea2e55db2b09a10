using Mono.Cecil;

namespace BusinessApi.Tests.Architecture;

/// <summary>
/// What each type of an assembly uses, read from its metadata and IL with Mono.Cecil: base types, interfaces,
/// fields, signatures, attributes and every type, method and field an instruction names. Compiler-made types
/// (async state machines, closures) count as the type and method they were made for.
/// </summary>
public sealed class DependencyGraph
{
    private DependencyGraph(IReadOnlyList<TypeUse> uses, IReadOnlySet<(string Type, string Method)> handlers)
    {
        Uses = uses;
        Handlers = handlers;
    }

    /// <summary>One use: <see cref="From"/> (a type, and the method when in code) names <see cref="To"/>.</summary>
    public sealed record TypeUse(string From, string? Method, string To, string? Member);

    public IReadOnlyList<TypeUse> Uses { get; }

    /// <summary>Methods that answer HTTP requests: they return an <c>IResult</c> or one of ASP.NET Core's typed results.</summary>
    public IReadOnlySet<(string Type, string Method)> Handlers { get; }

    public static DependencyGraph Of(string assemblyPath)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        var uses = new List<TypeUse>();
        var handlers = new HashSet<(string, string)>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            var (owner, ownerMethod) = OwnerOf(type);
            if (ownerMethod is null)
            {
                foreach (var method in type.Methods.Where(m => Names(m.ReturnType).Any(n => n == "Microsoft.AspNetCore.Http.IResult" || n.StartsWith("Microsoft.AspNetCore.Http.HttpResults.", StringComparison.Ordinal))))
                {
                    handlers.Add((owner, method.Name));
                }
            }

            void Add(TypeReference? to, string? method = null, string? member = null)
            {
                foreach (var name in Names(to))
                {
                    uses.Add(new TypeUse(owner, method ?? ownerMethod, name, member));
                }
            }

            Add(type.BaseType);
            foreach (var i in type.Interfaces)
            {
                Add(i.InterfaceType);
            }

            foreach (var field in type.Fields)
            {
                Add(field.FieldType);
            }

            foreach (var method in type.Methods)
            {
                var name = ownerMethod ?? method.Name;
                Add(method.ReturnType, name);
                foreach (var parameter in method.Parameters)
                {
                    Add(parameter.ParameterType, name);
                }

                if (!method.HasBody)
                {
                    continue;
                }

                foreach (var variable in method.Body.Variables)
                {
                    Add(variable.VariableType, name);
                }

                foreach (var instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t:
                            Add(t, name);
                            break;
                        case MethodReference m:
                            Add(m.DeclaringType, name, m.Name);
                            Add(m.ReturnType, name);
                            if (m is GenericInstanceMethod generic)
                            {
                                foreach (var argument in generic.GenericArguments)
                                {
                                    Add(argument, name);
                                }
                            }

                            break;
                        case FieldReference f:
                            Add(f.DeclaringType, name, f.Name);
                            break;
                    }
                }
            }
        }

        return new DependencyGraph(uses, handlers);
    }

    /// <summary>The type named in source that <paramref name="type"/> belongs to, and the method when the compiler made it for one.</summary>
    private static (string Type, string? Method) OwnerOf(TypeDefinition type)
    {
        string? method = null;
        while (type.DeclaringType is { } outer && type.Name.StartsWith('<'))
        {
            // <SubmitAsync>d__3 is SubmitAsync's state machine; <>c__DisplayClass5_0 a closure of the outer type.
            var end = type.Name.IndexOf('>', StringComparison.Ordinal);
            method ??= end > 1 ? type.Name[1..end] : null;
            type = outer;
        }

        return (type.FullName.Replace('/', '+'), method);
    }

    private static IEnumerable<string> Names(TypeReference? type)
    {
        switch (type)
        {
            case null:
                yield break;
            case GenericInstanceType generic:
                foreach (var name in Names(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Names)))
                {
                    yield return name;
                }

                yield break;
            case TypeSpecification specification:
                foreach (var name in Names(specification.ElementType))
                {
                    yield return name;
                }

                yield break;
            case GenericParameter:
                yield break;
            default:
                yield return type.FullName.Replace('/', '+');
                break;
        }
    }
}
