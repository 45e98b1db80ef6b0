namespace EdgeLm.Cli.Tests;

public class ChatCommandTests
{
    /// <summary>The answers between the "> " prompts of a transcript.</summary>
    private static string[] Answers(string output) =>
        output.Split("> ", StringSplitOptions.RemoveEmptyEntries).Select(a => a.Trim()).Where(a => a.Length > 0).ToArray();

    [Fact]
    public void AnswersEachLineAndResetForgetsTheConversation()
    {
        var r = CliRunner.RunWithInput("Tell me a story\n/reset\nTell me a story\nAnd then?\n", "chat", "-n", "20", "--temp", "0");
        Assert.True(r.ExitCode == 0, r.Error);
        string[] answers = Answers(r.Output);
        Assert.Equal(3, answers.Length);
        // Greedy decoding of the same conversation after /reset repeats the first answer exactly.
        Assert.Equal(answers[0], answers[1]);
        Assert.All(answers, a => Assert.False(string.IsNullOrWhiteSpace(a)));
        Assert.Contains("/reset", r.Error);
    }

    [Fact]
    public void ExitEndsTheSessionBeforeTheEndOfInput()
    {
        var r = CliRunner.RunWithInput("/exit\nnever answered\n", "chat", "-n", "5");
        Assert.Equal(0, r.ExitCode);
        Assert.Empty(Answers(r.Output));
    }

    [Fact]
    public void AConversationOverTheContextIsRefusedWithAMessage()
    {
        var r = CliRunner.RunWithInput(string.Concat(Enumerable.Repeat("once upon a time there was a little girl ", 10)) + "\n", "chat", "-c", "32", "-n", "4");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("context", r.Error);
    }

    [Theory]
    [InlineData("-n", "0")]
    [InlineData("--temp", "nan")]
    public void BadFlagsAreUsageErrors(string flag, string value) =>
        Assert.Equal(2, CliRunner.Run("chat", flag, value).ExitCode);
}
