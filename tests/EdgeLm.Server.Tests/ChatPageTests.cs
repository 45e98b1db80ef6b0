using EdgeLm.Runtime.AI;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace EdgeLm.Server.Tests;

/// <summary>The chat page at / in headless Chromium (Debian's chromium, driven by Playwright): a message gets a streamed answer.</summary>
[Collection("server")]
public sealed class ChatPageTests(ServerFixture server, ITestOutputHelper log)
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task A_message_sent_from_the_page_gets_a_streamed_answer()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-prerequisites.sh (apt-get install chromium).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 900, Height = 640 } });
        await page.GotoAsync(server.BaseAddress.ToString());

        // The status line names the model once the page has talked to the API.
        await page.Locator("#status").Filter(new() { HasText = "model stories260K" }).WaitForAsync(new() { Timeout = 30_000 });
        await page.Locator("details summary").ClickAsync();
        await page.Locator("#temperature").FillAsync("0");
        await page.Locator("#max-tokens").FillAsync("40");
        await page.Locator("details summary").ClickAsync();

        // A fast machine generates the 40 tokens so quickly that the SSE events can reach the page in one network
        // read and one render. Throttling the page's downloads (Chrome's DevTools network emulation, 4 KB/s) makes
        // them arrive over about two seconds, so the test sees the page render a stream, not a block, on any machine.
        var devTools = await page.Context.NewCDPSessionAsync(page);
        await devTools.SendAsync("Network.enable");
        await devTools.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = 4096, ["uploadThroughput"] = -1,
        });

        // Record every length the answer passes through, to see it arrive in pieces.
        await page.EvaluateAsync("""
            () => {
              window.lengths = [];
              new MutationObserver(() => {
                const answer = document.querySelector('.msg.assistant');
                if (answer) window.lengths.push(answer.textContent.length);
              }).observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
            }
            """);
        const string message = "Tell me a story about a frog.";
        await page.Locator("#prompt").FillAsync(message);
        await page.Locator("#send").ClickAsync();
        var answer = page.Locator(".msg.assistant[data-done='true']");
        await answer.WaitForAsync(new() { Timeout = 60_000 });

        string text = await answer.InnerTextAsync();
        var lengths = await page.EvaluateAsync<int[]>("() => window.lengths");
        Assert.True(lengths.Distinct().Count(l => l > 0) >= 3, $"the answer did not stream: lengths {string.Join(",", lengths)}");
        log.WriteLine($"answer lengths as rendered: {string.Join(",", lengths)}");
        Assert.Equal(message, await page.Locator(".msg.user").InnerTextAsync());

        // The page shows exactly what the model answers with the page's settings.
        using var client = new EdgeLmChatClient(server.Runner);
        var expected = await client.GetResponseAsync([new(Microsoft.Extensions.AI.ChatRole.User, message)],
            new Microsoft.Extensions.AI.ChatOptions { Temperature = 0, MaxOutputTokens = 40 });
        Assert.Equal(expected.Text.Trim(), text.Trim());
        Assert.Equal(0, await page.Locator(".msg.error").CountAsync());

        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string screenshot = Path.Combine(artifacts, "chat-page.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 1000);
    }
}
