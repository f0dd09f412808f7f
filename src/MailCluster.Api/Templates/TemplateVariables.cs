using Fluid;
using Fluid.Values;
using MailCluster.Api.Requests;

namespace MailCluster.Api.Templates;

/// <summary>
/// The variables of one recipient's message: the request's <c>substitutions</c>, overridden by the recipient's own,
/// then <c>email</c> and <c>name</c> (the recipient's, as in KumoMTA, unless a substitution of that name is given).
/// </summary>
public sealed class TemplateVariables
{
    /// <summary>Limits for templates written by clients (Fluid's advice for user-provided templates).</summary>
    private static readonly TemplateOptions Options = new TemplateOptionsBuilder()
        .WithMaxRecursion(20)
        .WithMaxSteps(200_000)
        .WithMaxOutputSize(64 * 1024 * 1024)
        .WithMaxCollectionSize(10_000)
        .Build();

    private readonly IReadOnlyDictionary<string, object?> _global;
    private readonly InjectRecipient _recipient;

    public TemplateVariables(IReadOnlyDictionary<string, object?> global, InjectRecipient recipient)
    {
        _global = global ?? throw new ArgumentNullException(nameof(global));
        _recipient = recipient ?? throw new ArgumentNullException(nameof(recipient));
    }

    internal TemplateContext NewContext()
    {
        var context = new TemplateContext(Options);
        context.SetValue("email", FluidValue.Create(_recipient.Email, Options));
        context.SetValue("name", FluidValue.Create(_recipient.Name ?? "", Options));
        foreach (var (name, value) in _global)
        {
            context.SetValue(name, FluidValue.Create(value, Options));
        }

        foreach (var (name, value) in _recipient.Substitutions)
        {
            context.SetValue(name, FluidValue.Create(value, Options));
        }

        return context;
    }
}
