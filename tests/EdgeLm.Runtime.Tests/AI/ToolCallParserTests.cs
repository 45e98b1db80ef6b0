using EdgeLm.Runtime.AI;

namespace EdgeLm.Runtime.Tests.AI;

public class ToolCallParserTests
{
    private const string HermesOutput =
        "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n"
        + "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";

    [Fact]
    public void Hermes_blocks_become_calls_and_the_rest_text()
    {
        var (text, calls) = ToolCallParser.Parse(HermesOutput, ToolCallFormat.Hermes);
        Assert.Equal("Let me check.\n\n", text);
        Assert.Equal(2, calls.Count);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Paris", (string?)calls[0].Arguments["city"]);
        Assert.Equal(2, (int?)calls[0].Arguments["days"]);
        Assert.Equal("get_time", calls[1].Name);
        Assert.Empty(calls[1].Arguments);
    }

    public static TheoryData<string, int> Outputs => new()
    {
        { HermesOutput, (int)ToolCallFormat.Hermes },
        { "plain <tool_ text with < and <tool_call that never closes properly", (int)ToolCallFormat.Hermes },
        { "a <tool_call>{not json}</tool_call> b", (int)ToolCallFormat.Hermes },
        { "{\"name\": \"f\", \"parameters\": {\"x\": [1, {\"y\": \"}\"}]}}", (int)ToolCallFormat.Llama3Json },
        { "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}; {\"name\": \"g\", \"arguments\": {\"a\": 1}}", (int)ToolCallFormat.Llama3Json },
        { "  Once upon a time {\"name\": \"f\"}", (int)ToolCallFormat.Generic },
    };

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Streaming_in_any_split_gives_what_parsing_at_once_gives(string output, int formatValue)
    {
        var format = (ToolCallFormat)formatValue;
        var (text, calls) = ToolCallParser.Parse(output, format);
        for (int cut = 0; cut <= output.Length; cut++)
        {
            foreach (int step in new[] { 1, 3, 7 })
            {
                var parser = new ToolCallParser(format);
                var segments = new List<OutputSegment>();
                parser.Push(output[..cut], segments);
                for (int i = cut; i < output.Length; i += step)
                    parser.Push(output[i..Math.Min(output.Length, i + step)], segments);
                parser.Complete(segments);
                Assert.Equal(text, string.Concat(segments.Select(s => s.Text)));
                var streamed = segments.Where(s => s.Call is not null).Select(s => s.Call!).ToList();
                Assert.Equal(calls.Select(c => (c.Name, c.ArgumentsJson)), streamed.Select(c => (c.Name, c.ArgumentsJson)));
            }
        }
    }

    [Fact]
    public void Hermes_text_is_not_held_back_longer_than_a_possible_tag()
    {
        var parser = new ToolCallParser(ToolCallFormat.Hermes);
        var segments = new List<OutputSegment>();
        parser.Push("Hello <tool", segments);
        Assert.Equal("Hello ", string.Concat(segments.Select(s => s.Text)));
        parser.Push("box> done", segments);
        Assert.Equal("Hello <toolbox> done", string.Concat(segments.Select(s => s.Text)));
    }

    [Fact]
    public void A_call_completes_before_the_output_ends()
    {
        var parser = new ToolCallParser(ToolCallFormat.Hermes);
        var segments = new List<OutputSegment>();
        parser.Push("<tool_call>{\"name\": \"a\", \"arguments\": {\"k\": true}}</tool_call>", segments);
        var call = Assert.Single(segments).Call;
        Assert.Equal("a", call!.Name);
        Assert.Equal("{\"k\":true}", call.ArgumentsJson);
    }

    [Fact]
    public void Bad_blocks_come_back_as_the_original_text()
    {
        string output = "x <tool_call>{\"arguments\": {}}</tool_call> y";
        var (text, calls) = ToolCallParser.Parse(output, ToolCallFormat.Hermes);
        Assert.Empty(calls);
        Assert.Equal(output, text);
    }

    [Fact]
    public void An_unterminated_block_that_holds_a_whole_call_is_a_call()
    {
        var (text, calls) = ToolCallParser.Parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n", ToolCallFormat.Hermes);
        Assert.Equal("", text);
        Assert.Equal("a", Assert.Single(calls).Name);
        var (cut, none) = ToolCallParser.Parse("<tool_call>\n{\"name\": \"a\", \"argu", ToolCallFormat.Hermes);
        Assert.Empty(none);
        Assert.Equal("<tool_call>\n{\"name\": \"a\", \"argu", cut);
    }

    [Fact]
    public void Llama3_json_replies_become_calls_and_other_replies_stay_text()
    {
        var (_, calls) = ToolCallParser.Parse("<|python_tag|>{\"name\": \"f\", \"parameters\": {\"q\": \"x\"}}; {\"name\": \"g\", \"arguments\": \"{\\\"n\\\": 1}\"}",
            ToolCallFormat.Llama3Json);
        Assert.Equal(["f", "g"], calls.Select(c => c.Name));
        Assert.Equal("x", (string?)calls[0].Arguments["q"]);
        Assert.Equal(1, (int?)calls[1].Arguments["n"]);

        foreach (string text in new[] { "Hello there.", "{\"answer\": 42}", "{\"name\": \"f\"} trailing words", "{\"name\": \"f\", " })
        {
            var (parsed, none) = ToolCallParser.Parse(text, ToolCallFormat.Llama3Json);
            Assert.Empty(none);
            Assert.Equal(text, parsed);
        }
    }
}
