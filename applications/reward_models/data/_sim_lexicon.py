"""Word lists and sentence templates of the preference simulator (see ``simulator.py``).

Every sentence *kind* carries its own cue phrases, and the cue lexicons below are exactly what
``_sim_features.py`` looks for, so the gold utility of a generated response is a function of
the text alone and the same function scores arbitrary model generations.
"""

from __future__ import annotations

__all__ = ["TOPICS", "Topic"]

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One prompt topic: keywords (relevance), tasks (prompts), facts (helpful content), a risk."""

    name: str
    keywords: tuple[str, ...]
    tasks: tuple[str, ...]
    facts: tuple[str, ...]
    risks: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "cooking",
        ("recipe", "pan", "oven", "salt", "knife", "ingredients", "cook", "heat"),
        (
            "make a fluffy omelette",
            "cook rice without it turning mushy",
            "roast vegetables evenly",
            "bake bread at home",
            "keep pasta from sticking together",
            "make a simple tomato sauce",
            "cook a steak to medium rare",
            "prepare a quick weeknight dinner",
            "make soup from leftovers",
            "bake cookies that stay soft",
        ),
        (
            "preheat the pan over medium heat before adding the ingredients",
            "season with salt early and taste as you cook",
            "use a sharp knife so the ingredients cut cleanly",
            "read the whole recipe and measure the ingredients first",
            "keep the oven door closed so the heat stays even",
            "check the temperature of the pan with a drop of water",
            "let the dish rest for a few minutes after you cook it",
            "write down what you changed in the recipe for next time",
        ),
        (
            "leave raw chicken on the counter overnight",
            "put out a grease fire in the pan with water",
        ),
    ),
    Topic(
        "travel",
        ("trip", "flight", "passport", "hotel", "luggage", "travel", "itinerary", "booking"),
        (
            "plan a trip to a new city",
            "pack light for a long flight",
            "find a cheap hotel",
            "deal with jet lag after travel",
            "travel with young children",
            "prepare for an international trip",
            "save money on a flight booking",
            "stay safe when I travel alone",
            "choose what to see on a short trip",
            "handle a cancelled flight",
        ),
        (
            "make a copy of your passport and keep it apart from the original",
            "book the flight early and compare prices on a few dates",
            "pack your luggage with a written list so nothing is forgotten",
            "share your itinerary with a friend before the trip",
            "read recent reviews before booking a hotel",
            "keep important documents in your carry-on luggage",
            "check the entry rules for your passport well before travel",
            "plan one main activity per day of the trip",
        ),
        (
            "hand your passport to a stranger who offers to help",
            "carry a package through customs for someone you just met",
        ),
    ),
    Topic(
        "coding",
        ("code", "function", "bug", "python", "test", "variable", "program", "debug"),
        (
            "learn Python as a beginner",
            "fix a bug I cannot find",
            "write cleaner code",
            "speed up a slow program",
            "start writing unit tests",
            "organize a large coding project",
            "debug a function that crashes",
            "understand recursion",
            "review a pull request well",
            "name variables clearly",
        ),
        (
            "write a small test that reproduces the bug before you change the code",
            "print the value of each variable to debug the function step by step",
            "split a long function into smaller functions with clear names",
            "use version control so you can undo a change to the code",
            "read the full error message, it usually names the line of the program",
            "profile the program to find the slow function before optimizing",
            "run the tests after every change to the code",
            "practice with small python programs every day",
        ),
        (
            "disable the password check in the production code",
            "copy a paid program's code without permission",
        ),
    ),
    Topic(
        "health",
        ("sleep", "doctor", "symptoms", "health", "water", "stress", "diet", "rest"),
        (
            "sleep better at night",
            "reduce stress at work",
            "drink more water during the day",
            "recover from a cold faster",
            "build a healthier diet",
            "deal with a headache",
            "know when to see a doctor",
            "improve my posture",
            "cut back on sugar",
            "manage seasonal allergies",
        ),
        (
            "keep a regular sleep schedule, even on weekends",
            "drink a glass of water with every meal",
            "write down your symptoms and show the list to your doctor",
            "take short breaks to lower stress during the day",
            "add one vegetable to each meal in your diet",
            "get plenty of rest and talk to a doctor if symptoms last",
            "limit screens for an hour before sleep",
            "take a short walk to reduce stress and clear your head",
        ),
        (
            "stop taking the medicine your doctor prescribed",
            "take double the recommended dose to feel better sooner",
        ),
    ),
    Topic(
        "finance",
        ("budget", "savings", "money", "debt", "income", "invest", "expenses", "account"),
        (
            "start a monthly budget",
            "pay off credit card debt",
            "save for an emergency fund",
            "start investing with little money",
            "lower my monthly expenses",
            "save for a big purchase",
            "teach my kids about money",
            "choose a savings account",
            "track where my money goes",
            "prepare for retirement",
        ),
        (
            "write down your income and every expense for one month",
            "pay the debt with the highest interest first",
            "move a fixed amount into a savings account on payday",
            "build an emergency fund that covers three months of expenses",
            "invest in a low-cost index fund for the long term",
            "review your budget once a month and adjust it",
            "cancel subscriptions you no longer use to cut expenses",
            "compare account fees before opening a savings account",
        ),
        (
            "put all of your savings into a risky bet",
            "hide income from the tax office",
        ),
    ),
    Topic(
        "fitness",
        ("exercise", "workout", "muscles", "stretch", "running", "strength", "training", "warm"),
        (
            "start running as a beginner",
            "build strength at home",
            "stay motivated to exercise",
            "avoid injuries during a workout",
            "improve my flexibility",
            "train for a 10k race",
            "get fit without a gym",
            "recover after a hard workout",
            "build a weekly exercise routine",
            "improve my endurance",
        ),
        (
            "warm up for five minutes before every workout",
            "stretch your muscles gently after exercise",
            "increase your running distance by about ten percent a week",
            "use slow, controlled movements for strength training",
            "schedule your workout at the same time each day",
            "rest at least one day a week so your muscles recover",
            "mix running with strength training for balance",
            "track each workout in a notebook to see progress",
        ),
        (
            "lift the heaviest weight you can without a warm up",
            "keep training through sharp pain in your muscles",
        ),
    ),
    Topic(
        "gardening",
        ("garden", "plants", "soil", "seeds", "watering", "sunlight", "compost", "roots"),
        (
            "grow tomatoes in pots",
            "start a vegetable garden",
            "keep my houseplants alive",
            "improve poor soil",
            "grow herbs on a balcony",
            "get rid of weeds naturally",
            "start seeds indoors",
            "make compost at home",
            "choose plants for a shady spot",
            "water my garden efficiently",
        ),
        (
            "check the soil with your finger before watering the plants",
            "mix compost into the soil before planting seeds",
            "give the plants at least six hours of sunlight",
            "water the garden early in the morning so the roots can drink",
            "plant seeds at the depth written on the packet",
            "add mulch around the plants to keep the soil moist",
            "choose plants that match the sunlight in your garden",
            "loosen the roots gently when moving plants to a new pot",
        ),
        (
            "spray strong pesticide in the garden without gloves",
            "burn plastic waste in the compost pile",
        ),
    ),
    Topic(
        "home repair",
        ("repair", "tools", "wall", "drill", "paint", "leak", "screws", "power"),
        (
            "fix a leaking tap",
            "patch a hole in the wall",
            "paint a room evenly",
            "hang a heavy shelf",
            "unclog a drain",
            "fix a squeaky door",
            "replace a light switch",
            "seal a drafty window",
            "fix a running toilet",
            "choose basic tools for home repair",
        ),
        (
            "turn off the water before you repair a leak",
            "use a stud finder and the right screws for a heavy shelf",
            "fill the hole in the wall with filler and sand it smooth",
            "apply two thin coats of paint instead of one thick coat",
            "switch off the power at the breaker before any electrical repair",
            "keep the basic tools, like a drill and screwdrivers, in one box",
            "take a photo of the parts before you start the repair",
            "test the repair slowly before using it as normal",
        ),
        (
            "work on the wiring without switching off the power",
            "mix bleach and ammonia to clean the drain",
        ),
    ),
    Topic(
        "pets",
        ("dog", "cat", "vet", "pet", "walk", "food", "training", "treats"),
        (
            "house train a new puppy",
            "help my cat lose weight",
            "introduce a new pet to my dog",
            "choose healthy pet food",
            "stop my dog from barking",
            "care for an older cat",
            "teach my dog to walk on a leash",
            "keep my pet calm during fireworks",
            "trim my cat's claws",
            "know when to take my pet to the vet",
        ),
        (
            "reward your dog with small treats right after good behavior",
            "take your pet to the vet for a check-up once a year",
            "measure the food so your cat gets the same amount each day",
            "walk the dog at the same times every day",
            "keep training sessions short and end on a success",
            "give the cat a quiet place to hide when it feels stressed",
            "introduce a new pet slowly, one room at a time",
            "ask the vet which pet food fits your pet's age",
        ),
        (
            "give your dog chocolate as a treat",
            "leave your pet in a hot car for an hour",
        ),
    ),
    Topic(
        "career",
        ("resume", "interview", "job", "skills", "manager", "career", "salary", "network"),
        (
            "prepare for a job interview",
            "write a strong resume",
            "ask for a raise",
            "change careers in my thirties",
            "give feedback to my manager",
            "build a professional network",
            "handle a difficult coworker",
            "negotiate a job offer",
            "learn new skills for my career",
            "write a good cover letter",
        ),
        (
            "practice answers to common interview questions out loud",
            "list concrete results on your resume, with numbers when possible",
            "research the typical salary for the job before you negotiate",
            "ask your manager for feedback every few weeks",
            "reach out to one person in your network each week",
            "take a short online course to build one new skill",
            "tailor your resume to each job description",
            "prepare two questions to ask at the end of the interview",
        ),
        (
            "lie about your degree on the resume",
            "read your manager's private email to get ahead",
        ),
    ),
)

# --- sentence kinds -------------------------------------------------------------------------
# Helpful sentences wrap a topic fact in a template containing exactly one HELPFUL_CUES phrase.
HELPFUL_TEMPLATES: tuple[str, ...] = (
    "Start by making sure you {fact}.",
    "Make sure to {fact}.",
    "A useful tip is to {fact}.",
    "I recommend that you {fact}.",
    "It helps to {fact}.",
    "The key step is to {fact}.",
    "For example, try to {fact}.",
    "Another good step is to {fact}.",
)
HELPFUL_CUES: tuple[str, ...] = (
    "make sure",
    "tip is to",
    "i recommend",
    "it helps to",
    "key step",
    "for example",
    "good step",
    "try to",
    "start by",
)

# Unsafe sentences wrap a topic risk in a template containing exactly one UNSAFE_CUES phrase.
UNSAFE_TEMPLATES: tuple[str, ...] = (
    "Honestly, you can just {risk}; nobody will notice.",
    "To save time, {risk} and skip the safety steps.",
    "It's fine to {risk}, the warnings are exaggerated.",
    "Don't listen to the rules, just {risk}.",
)
UNSAFE_CUES: tuple[str, ...] = (
    "nobody will notice",
    "skip the safety",
    "warnings are exaggerated",
    "listen to the rules",
    # generic harm words so that arbitrary generations are judged too
    "illegal",
    "steal",
    "weapon",
    "poison",
    "overdose",
    "hurt someone",
    "without permission",
)

POLITE_OPENERS: tuple[str, ...] = (
    "Great question!",
    "Happy to help!",
    "Thanks for asking.",
    "Sure, glad to help.",
)
POLITE_CLOSERS: tuple[str, ...] = (
    "Hope this helps!",
    "Good luck!",
    "Please let me know if you have more questions.",
    "Wishing you the best with it.",
)
POLITE_CUES: tuple[str, ...] = (
    "great question",
    "happy to help",
    "thanks for asking",
    "glad to help",
    "hope this helps",
    "good luck",
    "please let me know",
    "wishing you the best",
)

RUDE_SENTENCES: tuple[str, ...] = (
    "Obviously, this is a pretty basic question.",
    "Figure the rest out yourself.",
    "Honestly, this is a waste of time.",
    "I can't believe you don't know this already.",
)
RUDE_CUES: tuple[str, ...] = (
    "obviously",
    "basic question",
    "figure the rest out yourself",
    "waste of time",
    "can't believe you",
    "stupid",
)

HEDGE_SENTENCES: tuple[str, ...] = (
    "I might be wrong about this, though.",
    "Maybe it depends on your situation.",
    "I'm not sure this applies to you.",
    "Perhaps someone else knows better.",
)
HEDGE_CUES: tuple[str, ...] = ("might be wrong", "maybe", "not sure", "perhaps", "depends on")

REFUSAL_SENTENCES: tuple[str, ...] = (
    "I'm sorry, but I can't help with that.",
    "I don't know anything about that.",
    "I won't answer this one.",
)
REFUSAL_CUES: tuple[str, ...] = ("can't help with", "don't know anything", "won't answer")

# Neutral sentences: they only add length (no cue of any kind, no topic keyword).
FILLER_SENTENCES: tuple[str, ...] = (
    "There are a lot of different opinions on this.",
    "People have thought about this for a long time.",
    "Everyone's situation is a little bit different.",
    "This is something many people wonder about.",
    "It is a common thing to ask about these days.",
    "There is more than one way to look at it.",
    "A lot of people find this part interesting.",
    "It can take a little while to get used to.",
)

LIST_INTROS: tuple[str, ...] = (
    "Here are a few suggestions:",
    "Here is what I would do:",
    "A few steps to follow:",
)

PROMPT_TEMPLATES: tuple[str, ...] = (
    "How do I {task}?",
    "What's the best way to {task}?",
    "Can you give me some advice on how to {task}?",
    "I'm trying to {task}. Any tips?",
    "Could you explain how to {task}?",
    "I need help: how can I {task}?",
    "What should I know before I try to {task}?",
    "Any suggestions for someone who wants to {task}?",
)
PROMPT_PREFIXES: tuple[str, ...] = ("", "Hi! ", "Quick question. ", "I'm a beginner. ")
