using Xunit;

namespace MailCluster.Ops.Tests;

public sealed class DashboardTests
{
    [Fact]
    public async Task Every_series_on_the_dashboard_is_a_metric_the_node_exposes()
    {
        var names = await new NodeRegistry().NamesAsync();

        Assert.DoesNotContain(Dashboard.Series.Select(s => s.Metric.Split('{')[0]), name => !names.Contains(name));
    }

    [Fact]
    public void The_page_is_self_contained_and_reads_the_ops_endpoints()
    {
        var html = Dashboard.Html;

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/*SERIES*/", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
        foreach (var endpoint in new[] { "\"/metrics\"", "\"/healthz/ready\"" })
        {
            Assert.Contains("fetch(" + endpoint + ")", html, StringComparison.Ordinal);
        }

        // The API is called with the bearer token from the tab's session storage, never with cookies.
        Assert.Contains("api(\"/api/v1/cluster\")", html, StringComparison.Ordinal);
        Assert.Contains("\"Authorization\": \"Bearer \" + t", html, StringComparison.Ordinal);
        Assert.Contains("sessionStorage", html, StringComparison.Ordinal);
        Assert.DoesNotContain("localStorage", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cookie", html, StringComparison.OrdinalIgnoreCase);

        Assert.Contains("[\"mailcluster_delivery_attempts_total{outcome=\\u0022bounced\\u0022}\", \"Recipients bounced\", true]", html, StringComparison.Ordinal);
    }
}
