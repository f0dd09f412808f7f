using System.Text.Encodings.Web;
using Fluid;
using Fluid.Values;
using MailCluster.Api.Requests;

namespace MailCluster.Api.Templates;

/// <summary>
/// One template of a request (the raw message, or the subject, a body or a header value), parsed once and rendered
/// once per recipient with Fluid (Liquid). Why Fluid over Handlebars.Net: KumoMTA's templates are Jinja
/// (<c>{{ name }}</c>, <c>{% if %}</c>, <c>{{ x | upcase }}</c>) and Liquid reads the same for everything an inject
/// request uses, while Handlebars' <c>{{#if}}</c>/helpers differ; Fluid parses to an interpreted tree (no IL
/// compiled per request, which Handlebars.Net does for every new template an untrusted client sends), it has step,
/// output and recursion limits for user-provided templates, and it reports each undefined variable by name.
/// <para>Contract: a variable that is neither in the request's <c>substitutions</c>, nor in the recipient's, nor
/// <c>name</c>/<c>email</c> is an error naming it (a mail merge that silently sends "Dear ," is worse than a 422).
/// A recipient without a name has <c>name</c> defined as empty.</para>
/// </summary>
public sealed class MessageTemplate
{
    private static readonly FluidParser Parser = new();

    private readonly IFluidTemplate? _template;
    private readonly string _source;
    private readonly TextEncoder _encoder;

    private MessageTemplate(string field, string source, IFluidTemplate? template, TextEncoder encoder)
    {
        Field = field;
        _source = source;
        _template = template;
        _encoder = encoder;
    }

    /// <summary>The request field this template came from (<c>content</c>, <c>content.subject</c>, ...).</summary>
    public string Field { get; }

    /// <summary>Parses <paramref name="source"/>; a syntax error is a 422 naming <paramref name="field"/>.</summary>
    /// <param name="html">Substituted values are HTML-escaped (for <c>html_body</c>: values are data, not markup).</param>
    /// <param name="templated">False: the source is used as given (<c>template_dialect: "Static"</c>).</param>
    public static MessageTemplate Parse(string field, string source, bool html = false, bool templated = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        TextEncoder encoder = html ? HtmlEncoder.Default : NullEncoder.Default;

        // Text without a tag or an output is its own rendering: skip the parser (the common raw-message case).
        if (!templated || (!source.Contains("{{", StringComparison.Ordinal) && !source.Contains("{%", StringComparison.Ordinal)))
        {
            return new MessageTemplate(field, source, null, encoder);
        }

        if (!Parser.TryParse(source, out var template, out var error))
        {
            throw new RequestProblemException(RequestProblem.Invalid(field, $"template syntax error: {error}"));
        }

        return new MessageTemplate(field, source, template, encoder);
    }

    /// <summary>Renders for one recipient; an undefined variable is a 422 naming it, the field and the recipient.</summary>
    public string Render(TemplateVariables variables, string recipientField)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (_template is null)
        {
            return _source;
        }

        string? undefined = null;
        var context = variables.NewContext();
        context.Undefined = (name, _) =>
        {
            undefined ??= name;
            return new ValueTask<FluidValue>(NilValue.Instance);
        };
        string text;
        try
        {
            text = _template.Render(context, _encoder);
        }
        catch (FluidException ex)
        {
            throw new RequestProblemException(RequestProblem.Invalid(Field, $"template error for {recipientField}: {ex.Message}"));
        }
        catch (InvalidOperationException ex)
        {
            // Fluid's execution limits (steps, output size) end the render with this exception.
            throw new RequestProblemException(RequestProblem.Invalid(Field, $"template error for {recipientField}: {ex.Message}"));
        }

        return undefined is null
            ? text
            : throw new RequestProblemException(RequestProblem.Invalid(Field, $"unknown template variable '{undefined}' for {recipientField}: it is in neither substitutions nor {recipientField}.substitutions"));
    }
}
