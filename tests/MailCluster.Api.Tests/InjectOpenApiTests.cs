using Xunit;
using System.Text.Json;

namespace MailCluster.Api.Tests;

public sealed class InjectOpenApiTests
{
    [Fact]
    public void DocumentDescribesTheRouteAndTheFieldsTheReaderReads()
    {
        using var document = JsonDocument.Parse(InjectOpenApi.Document);
        var root = document.RootElement;
        Assert.True(root.GetProperty("paths").TryGetProperty(InjectEndpoint.Route, out var route));
        Assert.True(route.TryGetProperty("post", out _));
        var request = root.GetProperty("components").GetProperty("schemas").GetProperty("InjectRequest").GetProperty("properties");
        foreach (var field in new[] { "envelope_sender", "content", "recipients", "substitutions", "template_dialect", "meta" })
        {
            Assert.True(request.TryGetProperty(field, out _), field);
        }
    }
}
