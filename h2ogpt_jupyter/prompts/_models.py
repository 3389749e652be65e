"""Model name -> prompt type auto-selection, as h2oGPT's ``model_name_to_prompt_type``.

The table is h2oGPT 0.2.1's ``prompt_type_to_model_name`` (including the API model names it
appends for openai/anthropic/google/mistralai/groq).  Names are kept as whitespace-separated
blocks so ~280 ids stay readable; the reverse index is built on first use so importing the
package stays cheap.  When a name appears under two types the later one wins, as in h2oGPT's
dict comprehension (only ``openchat/openchat_3.5`` -> ``open_chat_correct``).
"""

from __future__ import annotations

from functools import cache

# Ordered like h2oGPT's dict: later entries override earlier ones for duplicate names.
_MODEL_NAMES: dict[str, str] = {
    "plain": """
        EleutherAI/gpt-j-6B EleutherAI/pythia-6.9b EleutherAI/pythia-12b
        EleutherAI/pythia-12b-deduped EleutherAI/gpt-neox-20b
        openlm-research/open_llama_7b_700bt_preview decapoda-research/llama-7b-hf
        decapoda-research/llama-13b-hf decapoda-research/llama-30b-hf
        decapoda-research/llama-65b-hf facebook/mbart-large-50-many-to-many-mmt
        philschmid/bart-large-cnn-samsum philschmid/flan-t5-base-samsum gpt2 distilgpt2
        mosaicml/mpt-7b-storywriter tiiuae/falcon-7b tiiuae/falcon-40b tiiuae/falcon-180B
        meta-llama/Llama-2-7b meta-llama/Llama-2-13b meta-llama/Llama-2-70b
        h2oai/h2ogpt-4096-llama2-7b h2oai/h2ogpt-4096-llama2-13b h2oai/h2ogpt-4096-llama2-70b
        h2oai/h2ogpt-16k-codellama-7b h2oai/h2ogpt-16k-codellama-13b
        h2oai/h2ogpt-16k-codellama-34b h2oai/h2ogpt-16k-codellama-7b-python
        h2oai/h2ogpt-16k-codellama-13b-python h2oai/h2ogpt-16k-codellama-34b-python
        h2oai/h2ogpt-32k-codellama-34b-python mistralai/Mistral-7B-v0.1
        mistralai/Mixtral-8x7B-v0.1
    """,
    "gptj": "gptj gpt4all_llama",
    "prompt_answer": """
        h2oai/h2ogpt-gm-oasst1-en-1024-20b h2oai/h2ogpt-gm-oasst1-en-1024-12b
        h2oai/h2ogpt-gm-oasst1-multilang-1024-20b
        h2oai/h2ogpt-gm-oasst1-multilang-2048-falcon-7b
        h2oai/h2ogpt-gm-oasst1-multilang-2048-falcon-7b-v2
        h2oai/h2ogpt-gm-oasst1-en-2048-falcon-7b-v3 h2oai/h2ogpt-gm-oasst1-en-2048-falcon-7b
        h2oai/h2ogpt-gm-oasst1-en-2048-falcon-7b-v2
        h2oai/h2ogpt-gm-oasst1-en-2048-falcon-40b-v1
        h2oai/h2ogpt-gm-oasst1-en-2048-falcon-40b-v2 h2oai/h2ogpt-gm-oasst1-en-xgen-7b-8k
        h2oai/h2ogpt-gm-oasst1-multilang-xgen-7b-8k
        TheBloke/h2ogpt-gm-oasst1-en-2048-falcon-40b-v2-GPTQ
    """,
    "prompt_answer_openllama": """
        h2oai/h2ogpt-gm-oasst1-en-2048-open-llama-7b-preview-300bt
        h2oai/h2ogpt-gm-oasst1-en-2048-open-llama-7b-preview-300bt-v2
        h2oai/h2ogpt-gm-oasst1-en-2048-open-llama-7b-preview-700bt
        h2oai/h2ogpt-gm-oasst1-en-2048-open-llama-7b
        h2oai/h2ogpt-gm-oasst1-en-2048-open-llama-13b
    """,
    "instruct": "TheBloke/llama-30b-supercot-SuperHOT-8K-fp16 TheBloke/Nous-Hermes-13B-GPTQ",
    "instruct_with_end": "databricks/dolly-v2-12b",
    "human_bot": """
        h2oai/h2ogpt-oasst1-512-12b h2oai/h2ogpt-oasst1-512-20b
        h2oai/h2ogpt-oig-oasst1-256-6_9b h2oai/h2ogpt-oig-oasst1-512-6_9b
        h2oai/h2ogpt-oig-oasst1-256-6.9b h2oai/h2ogpt-oig-oasst1-512-6.9b
        h2oai/h2ogpt-research-oasst1-512-30b h2oai/h2ogpt-research-oasst1-llama-65b
        h2oai/h2ogpt-oasst1-falcon-40b h2oai/h2ogpt-oig-oasst1-falcon-40b
        llmware/dragon-mistral-7b-v0
    """,
    "simple_instruct": "t5-small t5-large google/flan-t5 google/flan-t5-xxl google/flan-ul2",
    "instruct_vicuna": """
        AlekseyKorshuk/vicuna-7b TheBloke/stable-vicuna-13B-HF junelee/wizard-vicuna-13b
    """,
    "human_bot_orig": "togethercomputer/GPT-NeoXT-Chat-Base-20B",
    "open_assistant": "OpenAssistant/oasst-sft-7-llama-30b-xor oasst-sft-7-llama-30b",
    "wizard_lm": "ehartford/WizardLM-7B-Uncensored ehartford/WizardLM-13B-Uncensored",
    "wizard_mega": "openaccess-ai-collective/wizard-mega-13b",
    "instruct_simple": "JosephusCheung/Guanaco",
    "wizard_vicuna": "ehartford/Wizard-Vicuna-13B-Uncensored",
    "mptinstruct": "mosaicml/mpt-30b-instruct mosaicml/mpt-7b-instruct",
    "mptchat": """
        mosaicml/mpt-7b-chat mosaicml/mpt-30b-chat TheBloke/mpt-30B-chat-GGML
        TheBloke/Nous-Hermes-2-Mixtral-8x7B-DPO-AWQ TheBloke/dolphin-2.7-mixtral-8x7b-AWQ
    """,
    "orca2": "TheBloke/Orca-2-13B-GGUF microsoft/Orca-2-13b",
    "vicuna11": """
        lmsys/vicuna-33b-v1.3 lmsys/vicuna-7b-v1.5 lmsys/vicuna-13b-v1.5
        NousResearch/Nous-Capybara-34B
    """,
    "vicuna11nosys": "lmsys/vicuna-13b-v1.5-16k",
    "one_shot": "lmsys/fastchat-t5-3b-v1.0 mistral-community/Mixtral-8x22B-v0.1",
    "falcon": "tiiuae/falcon-40b-instruct tiiuae/falcon-7b-instruct",
    "llama2": """
        meta-llama/Llama-2-7b-chat-hf meta-llama/Llama-2-13b-chat-hf
        meta-llama/Llama-2-34b-chat-hf meta-llama/Llama-2-70b-chat-hf
        h2oai/h2ogpt-oasst1-4096-llama2-7b h2oai/h2ogpt-oasst1-4096-llama2-13b
        h2oai/h2ogpt-oasst1-4096-llama2-70b TheBloke/Llama-2-7b-Chat-GPTQ
        TheBloke/Llama-2-7b-chat-fp16 TheBloke/Llama-2-13b-chat-fp16
        TheBloke/Llama-2-70b-chat-fp16 h2oai/h2ogpt-4096-llama2-7b-chat
        h2oai/h2ogpt-4096-llama2-13b-chat h2oai/h2ogpt-4096-llama2-70b-chat
        h2oai/h2ogpt-16k-codellama-7b-instruct h2oai/h2ogpt-16k-codellama-13b-instruct
        h2oai/h2ogpt-16k-codellama-34b-instruct h2oai/h2ogpt-32k-codellama-34b-instruct
        TheBloke/Llama-2-70B-chat-AWQ h2oai/h2ogpt-4096-llama2-70b-chat-4bit
        TheBloke/Llama-2-13B-chat-AWQ Yukang/LongAlpaca-70B TheBloke/Llama-2-7B-Chat-GGUF
        namespace-Pt/activation-beacon-llama2-7b-chat abacusai/Smaug-72B-v0.1
    """,
    "mistral": """
        mistralai/Mistral-7B-Instruct-v0.1 TheBloke/Mistral-7B-Instruct-v0.1-GGUF
        mistralai/Mistral-7B-Instruct-v0.2 TheBloke/Mistral-7B-Instruct-v0.2-GGUF
    """,
    "mixtral": """
        mistralai/Mixtral-8x7B-Instruct-v0.1 TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF
        TheBloke/Mixtral-8x7B-Instruct-v0.1-GPTQ TheBloke/Mixtral-8x7B-Instruct-v0.1-AWQ
        ybelkada/Mixtral-8x7B-Instruct-v0.1-AWQ
    """,
    "zephyr": """
        HuggingFaceH4/zephyr-7b-alpha HuggingFaceH4/zephyr-7b-beta
        TheBloke/zephyr-7B-beta-GGUF TheBloke/zephyr-7B-beta-AWQ zephyr-7b-beta.Q5_K_M.gguf
    """,
    "beluga": "stabilityai/StableBeluga2 psmathur/orca_mini_v3_7b",
    "wizard3nospace": "WizardLM/WizardLM-13B-V1.2",
    "falcon_chat": "tiiuae/falcon-180B-chat",
    "xwin": """
        Xwin-LM/Xwin-LM-13B-V0.1 TheBloke/Xwin-LM-13B-V0.1-GPTQ TheBloke/Xwin-LM-13B-v0.2-GPTQ
        Xwin-LM/Xwin-LM-70B-V0.1
    """,
    "xwincoder": "Xwin-LM/XwinCoder-7B Xwin-LM/XwinCoder-13B Xwin-LM/XwinCoder-34B",
    "xwinmath": "Xwin-LM/Xwin-Math-7B-V1.0 Xwin-LM/Xwin-Math-70B-V1.0 Xwin-LM/Xwin-Math-13B-V1.0",
    "mistrallite": "amazon/MistralLite",
    "aquila": """
        h2oai/h2ogpt-16k-aquilachat2-34b BAAI/AquilaChat2-34B-16K BAAI/AquilaChat2-34B-16k
        BAAI/AquilaChat2-7B-16K
    """,
    "aquila_legacy": "BAAI/AquilaChat2-34B",
    "aquila_v1": "BAAI/AquilaChat2-7B",
    "mistralgerman": "TheBloke/em_german_leo_mistral-GPTQ",
    "deepseek_coder": """
        deepseek-ai/deepseek-coder-1.3b-instruct deepseek-ai/deepseek-coder-6.7b-instruct
        deepseek-ai/deepseek-coder-33b-instruct
    """,
    "open_chat": """
        openchat/openchat_3.5 TheBloke/openchat_3.5-GPTQ TheBloke/openchat_3.5-GGUF
        TheBloke/openchat_3.5-AWQ TheBloke/openchat_3.5-16k-AWQ openchat_3.5.Q5_K_M.gguf
        NurtureAI/openchat_3.5-16k
    """,
    "open_chat_correct": """
        berkeley-nest/Starling-LM-7B-alpha openchat/openchat-3.5-1210 openchat/openchat_3.5
        openchat/openchat_v3.2_super TheBloke/openchat-3.5-1210-AWQ
    """,
    "jais": "core42/jais-30b-chat-v1 core42/jais-13b-chat",
    "yi": "01-ai/Yi-34B-Chat TheBloke/Yi-34B-Chat-AWQ",
    "docsgpt": "Arc53/docsgpt-7b-mistral",
    "orion": """
        OrionStarAI/Orion-14B-Chat OrionStarAI/Orion-14B-LongChat
        OrionStarAI/Orion-14B-Chat-RAG
    """,
    "sciphi": "SciPhi/SciPhi-Self-RAG-Mistral-7B-32k",
    "llava": """
        liuhaotian/llava-v1.6-34b liuhaotian/llava-v1.6-mistral-7b
        liuhaotian/llava-v1.6-vicuna-13b liuhaotian/llava-v1.6-vicuna-7b
        liuhaotian/llava-v1.5-13b liuhaotian/llava-v1.5-7b NousResearch/Nous-Hermes-2-Vision
    """,
    "danube": "h2oai/h2o-danube-1.8b-chat",
    "gemma": "gg-hf/gemma-2b-it gg-hf/gemma-7b-it google/gemma-2b-it google/gemma-7b-it",
    "qwen": """
        Qwen/Qwen1.5-7B-Chat-GPTQ-Int8 Qwen/Qwen1.5-7B-Chat-GPTQ-Int4 Qwen/Qwen1.5-7B-Chat-AWQ
        Qwen/Qwen1.5-7B-Chat Qwen/Qwen1.5-72B-Chat-GPTQ-Int8 Qwen/Qwen1.5-72B-Chat-GPTQ-Int4
        Qwen/Qwen1.5-72B-Chat-AWQ Qwen/Qwen1.5-72B-Chat Qwen/Qwen1.5-4B-Chat-GPTQ-Int8
        Qwen/Qwen1.5-4B-Chat-GPTQ-Int4 Qwen/Qwen1.5-4B-Chat-AWQ Qwen/Qwen1.5-4B-Chat
        Qwen/Qwen1.5-14B-Chat-GPTQ-Int8 Qwen/Qwen1.5-14B-Chat-GPTQ-Int4
        Qwen/Qwen1.5-14B-Chat-AWQ Qwen/Qwen1.5-14B-Chat Qwen/Qwen1.5-1.8B-Chat-GPTQ-Int8
        Qwen/Qwen1.5-1.8B-Chat-GPTQ-Int4 Qwen/Qwen1.5-1.8B-Chat-AWQ Qwen/Qwen1.5-1.8B-Chat
        Qwen/Qwen1.5-0.5B-Chat-GPTQ-Int8 Qwen/Qwen1.5-0.5B-Chat-GPTQ-Int4
        Qwen/Qwen1.5-0.5B-Chat-AWQ Qwen/Qwen1.5-0.5B-Chat Qwen/Qwen1.5-72B-Chat-GGUF
        Qwen/Qwen1.5-14B-Chat-GGUF Qwen/Qwen1.5-7B-Chat-GGUF Qwen/Qwen1.5-4B-Chat-GGUF
        Qwen/Qwen1.5-1.8B-Chat-GGUF Qwen/Qwen1.5-0.5B-Chat-GGUF
    """,
    "sealion": "aisingapore/sea-lion-7b-instruct",
    "aya": "CohereForAI/aya-101",
    "idefics2": "HuggingFaceM4/idefics2-8b-chatty HuggingFaceM4/idefics2-8b-chat",
    "anthropic": """
        claude-2 claude-2.0 claude-2.1 claude-3-haiku-20240307 claude-3-opus-20240229
        claude-3-sonnet-20240229 claude-instant-1.2
    """,
    "google": """
        gemini-1.0-pro-latest gemini-1.0-pro-vision-latest gemini-1.0-ultra-latest
        gemini-1.5-flash-latest gemini-1.5-pro-latest gemini-pro gemini-pro-vision
        gemini-ultra
    """,
    "mistralai": """
        mistral-large-latest mistral-medium mistral-medium-latest mistral-small
        mistral-small-latest mistral-tiny open-mistral-7b open-mixtral-8x22b open-mixtral-8x7b
    """,
    "groq": "gemma-7b-it llama2-70b-4096 mixtral-8x7b-32768",
    "openai": "text-davinci-003 text-curie-001 text-babbage-001 text-ada-001",
    "openai_chat": """
        gpt-4 gpt-4-0314 gpt-4-0613 gpt-4-32k gpt-4-32k-0314 gpt-4-32k-0613 gpt-3.5-turbo
        gpt-3.5-turbo-0301 gpt-3.5-turbo-0613 gpt-3.5-turbo-16k gpt-3.5-turbo-16k-0613
        gpt-3.5-turbo-instruct gpt-4-1106-preview gpt-35-turbo-1106 gpt-4-vision-preview
        gpt-4-1106-vision-preview gpt-4-turbo-2024-04-09 gpt-4o gpt-4o-2024-05-13
    """,
}


@cache
def _index() -> dict[str, str]:
    return {
        name.lower(): prompt_type
        for prompt_type, block in _MODEL_NAMES.items()
        for name in block.split()
    }


def _candidates(model_name: str) -> list[str]:
    """Spellings to try, most specific first: the id as given, a Hub URL's repo id, an HF
    cache directory's repo id, the last two path parts (``org/name``), then the basename."""
    lower = model_name.strip().lower()
    found = [lower]
    if "huggingface.co/" in lower and "/resolve/" in lower:
        found.append(lower.split("huggingface.co/", 1)[1].split("/resolve/", 1)[0])
    parts = [part for part in lower.replace("\\", "/").split("/") if part]
    for part in parts:
        if part.startswith("models--"):  # ~/.cache/huggingface/hub/models--org--name/...
            found.append(part[len("models--") :].replace("--", "/", 1))
    if len(parts) >= 2:
        found.append("/".join(parts[-2:]))
    if parts:
        found.append(parts[-1])
    return found


def prompt_type_for_model(model_name: str) -> str | None:
    """Prompt type h2oGPT would auto-select for ``model_name``, or ``None`` if it knows none.

    Accepts a Hugging Face id (``"mistralai/Mistral-7B-Instruct-v0.2"``), a local directory, a
    Hub download URL or a ``.gguf`` file name/path; matching is case-insensitive.  Plain base
    models h2oGPT lists (gpt2, Llama-2-7b, ...) give ``"plain"``, as in h2oGPT.
    """
    if not model_name or not model_name.strip():
        return None
    index = _index()
    for candidate in _candidates(model_name):
        if candidate in index:
            return index[candidate]
    return None
