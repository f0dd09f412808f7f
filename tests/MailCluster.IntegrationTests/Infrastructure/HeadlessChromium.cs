using System.Diagnostics;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Renders a page in Debian's Chromium without a display and returns its DOM after the page's scripts ran. CI runs as
/// root on a bare image: Chromium's sandbox refuses root (<c>--no-sandbox</c>), there is no GPU (<c>--disable-gpu</c>),
/// /dev/shm may be tiny in a container (<c>--disable-dev-shm-usage</c>), and each run gets a profile of its own under
/// the temp folder, removed afterwards, so that runs never share or leave browser state.
/// </summary>
public static class HeadlessChromium
{
    public static Task<string> DumpDomAsync(string chromium, string url, TimeSpan timeout) =>
        RunAsync(chromium, url, timeout, ["--dump-dom"]);

    /// <summary>Renders <paramref name="url"/> (1280×1000) into the PNG file <paramref name="path"/> after its scripts ran.</summary>
    public static async Task ScreenshotAsync(string chromium, string url, string path, TimeSpan timeout)
    {
        await RunAsync(chromium, url, timeout, ["--window-size=1280,1000", "--hide-scrollbars", "--screenshot=" + Path.GetFullPath(path)], expectPage: false);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"chromium wrote no screenshot of {url} to {path}");
        }
    }

    private static async Task<string> RunAsync(string chromium, string url, TimeSpan timeout, string[] mode, bool expectPage = true)
    {
        var profile = Directory.CreateTempSubdirectory("mc-chromium-");
        try
        {
            var start = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            string[] arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--user-data-dir=" + profile.FullName, "--virtual-time-budget=3000", .. mode, url,
            ];
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var dom = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not render {url} within {timeout}");
            }

            var text = await dom;
            if (process.ExitCode != 0 || expectPage && !text.Contains("<html", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"chromium exited with {process.ExitCode} and no page; stderr:\n{await errors}");
            }

            return text;
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a helper process may still hold a file for a moment; the temp folder is cleaned eventually
            }
        }
    }
}
