using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>deploy/Dockerfile, read (no container engine on these machines): its version agrees with the one stamped
/// into the binary, it restores in a layer of its own before the sources are copied, and it carries OCI labels.</summary>
public sealed partial class ImageTests
{
    private static readonly string Dockerfile = File.ReadAllText(Repository.PathOf("deploy", "Dockerfile"));

    [Fact]
    public void The_default_version_is_the_stamped_one_and_labels_the_image()
    {
        var props = File.ReadAllText(Repository.PathOf("Directory.Build.props"));
        var version = Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;

        Assert.Equal(version, DefaultVersion().Match(Dockerfile).Groups[1].Value);
        Assert.Contains("org.opencontainers.image.version=\"${VERSION}\"", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("org.opencontainers.image.revision=\"${REVISION}\"", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("org.opencontainers.image.title=", Dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_runs_before_the_sources_are_copied()
    {
        var restore = Dockerfile.IndexOf("dotnet restore", StringComparison.Ordinal);
        var sources = Dockerfile.IndexOf("COPY . .", StringComparison.Ordinal);

        Assert.True(restore > 0 && sources > restore, "the restore layer must come before COPY . .");
        Assert.Contains("COPY --parents src/*/*.csproj ./", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("USER app", Dockerfile, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^ARG VERSION=(\S+)$")]
    private static partial Regex DefaultVersion();
}
