using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>Special-token parsing, BOS/EOS flags and end-of-generation detection.</summary>
public sealed class SpecialTokenTests
{
    [Fact]
    public void ImStartIsOneTokenWhenParsingSpecialTokens()
    {
        var qwen = TestTokenizers.Get("qwen2");
        Assert.True(qwen.TryGetTokenId("<|im_start|>", out int imStart));
        Assert.Equal(151644, imStart);

        int[] ids = qwen.Encode("<|im_start|>user", addSpecial: false, parseSpecial: true);
        Assert.Equal([imStart, .. qwen.Encode("user", addSpecial: false, parseSpecial: false)], ids);
        Assert.True(qwen.IsControl(imStart));
    }

    [Fact]
    public void ImStartIsPlainTextWithoutParsingSpecialTokens()
    {
        var qwen = TestTokenizers.Get("qwen2");
        int[] ids = qwen.Encode("<|im_start|>user", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(151644, ids);
        Assert.True(ids.Length > 3);
        Assert.Equal("<|im_start|>user", qwen.Decode(ids));
        Assert.All(ids, id => Assert.False(qwen.IsControl(id)));
    }

    [Fact]
    public void UserDefinedTokensAreMatchedEvenWithoutParsingSpecialTokens()
    {
        // <think> is an added token that is not "special" in tokenizer.json, so the converter makes it user-defined,
        // and llama.cpp always cuts user-defined tokens out of the text.
        var qwen = TestTokenizers.Get("qwen2");
        Assert.True(qwen.TryGetTokenId("<think>", out int think));
        Assert.Equal(TokenType.UserDefined, qwen.GetTokenType(think));
        Assert.Equal([think], qwen.Encode("<think>", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void SentencePieceAddsBosAndASpaceAfterSpecialTokens()
    {
        var spm = TestTokenizers.Get("llama-spm");
        Assert.True(spm.AddBos);
        Assert.False(spm.AddEos);
        Assert.Equal(1, spm.BosId);
        Assert.Equal(2, spm.EosId);
        int hello = spm.Encode("Hello", addSpecial: false).Single();
        Assert.Equal("▁Hello", spm.TokenText(hello));

        Assert.Equal([1, hello], spm.Encode("Hello"));
        Assert.Equal([hello], spm.Encode("Hello", addSpecial: false));
        // "<s>" written in the text: one BOS token, then the text gets the space prefix again.
        Assert.Equal([1, 1, hello], spm.Encode("<s>Hello"));
        Assert.NotEqual(1, spm.Encode("<s>Hello", parseSpecial: false)[1]);
    }

    [Fact]
    public void Phi3SpecialTokensSwallowTheWhitespaceAfterThem()
    {
        // llama.cpp marks Phi-3's special tokens rstrip (keyed on the model name), so "\n" after <|user|> vanishes.
        var phi3 = TestTokenizers.Get("phi-3");
        Assert.True(phi3.TryGetTokenId("<|user|>", out int user));
        int hello = phi3.Encode("Hello", addSpecial: false).Single();
        Assert.Equal([user, hello], phi3.Encode("<|user|>\nHello", addSpecial: false));
        Assert.True(phi3.IsEndOfGeneration(32007)); // <|end|>
        Assert.Equal(32007, phi3.EotId);
    }

    [Fact]
    public void EndTokensStoredAsUserDefinedBecomeControl()
    {
        // Phi-3 stores </s> as user-defined; llama.cpp makes every end-of-generation text a control token, so "</s>"
        // in plain text is not matched unless special tokens are parsed (checked against llama.cpp itself).
        var phi3 = TestTokenizers.Get("phi-3");
        Assert.True(phi3.TryGetTokenId("</s>", out int eos));
        Assert.True(phi3.IsControl(eos));
        Assert.True(phi3.IsEndOfGeneration(eos));
        Assert.Equal([eos], phi3.Encode("</s>", addSpecial: false, parseSpecial: true));
        Assert.DoesNotContain(eos, phi3.Encode("</s>", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Llama3AddsBeginOfTextByDefaultAndKnowsItsEndTokens()
    {
        var llama3 = TestTokenizers.Get("llama-bpe");
        Assert.Equal(128256, llama3.VocabularySize);
        Assert.True(llama3.AddBos);
        Assert.Equal(128000, llama3.BosId);
        Assert.Equal(128001, llama3.EosId);
        Assert.Equal(128009, llama3.EotId);
        Assert.Equal(128000, llama3.Encode("Hi")[0]);
        Assert.True(llama3.IsEndOfGeneration(128001));
        Assert.True(llama3.IsEndOfGeneration(128009));
        Assert.False(llama3.IsEndOfGeneration(128000));
        Assert.False(llama3.IsEndOfGeneration(llama3.Encode("Hi", addSpecial: false)[0]));
        Assert.Equal([128006, .. llama3.Encode("user", addSpecial: false), 128007],
            llama3.Encode("<|start_header_id|>user<|end_header_id|>", addSpecial: false));
    }

    [Fact]
    public void QwenAddsNoBosAndEndsOnImEnd()
    {
        var qwen = TestTokenizers.Get("qwen2");
        Assert.False(qwen.AddBos);
        Assert.False(qwen.AddEos);
        Assert.Equal(11, qwen.BosId); // the files name no BOS, so llama.cpp's BPE default (id 11) stands, unused
        Assert.Equal(151669, qwen.VocabularySize);
        Assert.Equal(151645, qwen.EosId);
        Assert.Equal(151645, qwen.EotId);
        Assert.Equal(qwen.Encode("Hi", addSpecial: false), qwen.Encode("Hi"));
        Assert.True(qwen.IsEndOfGeneration(151643)); // <|endoftext|>
        Assert.True(qwen.IsEndOfGeneration(151645)); // <|im_end|>
        Assert.False(qwen.IsEndOfGeneration(151644));
    }

    [Fact]
    public void SkipSpecialDropsControlTokensFromDecodedText()
    {
        var llama3 = TestTokenizers.Get("llama-bpe");
        int[] ids = llama3.Encode("<|start_header_id|>user<|end_header_id|>Hi<|eot_id|>");
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>Hi<|eot_id|>", llama3.Decode(ids));
        Assert.Equal("userHi", llama3.Decode(ids, skipSpecial: true));
    }

    [Fact]
    public void Gpt2EndOfTextIsBosEosAndEndOfGeneration()
    {
        var gpt2 = TestTokenizers.Get("gpt-2");
        Assert.Equal(50256, gpt2.BosId);
        Assert.Equal(50256, gpt2.EosId);
        Assert.False(gpt2.AddBos);
        Assert.True(gpt2.IsEndOfGeneration(50256));
        Assert.Equal([50256], gpt2.Encode("<|endoftext|>", addSpecial: false));
        Assert.True(gpt2.Encode("<|endoftext|>", addSpecial: false, parseSpecial: false).Length > 1);
    }
}
