"""genmail.py: the generated mail the daemon tests train and probe with.

Spam sells, ham works: each message is 50 words drawn from its class's
words and common ones, with a 4-word Subject, from a seeded generator, so a
run is repeatable. No corpus content. Used from the tests' python3
heredocs (sys.path gets the tests folder, sys.dont_write_bytecode is set
so that nothing is written into the tree):

    g = genmail.Gen(root, seed=7, to="you@here.example")
    g.corpus()                                   # spam/, ham/, probe-*.eml
    g.write("tell.eml", "ham", "tell")           # one more message
    g.big("big.eml")                             # 300 KB of text
"""
import os
import random

WORDS = {
    "spam": "cheap pills offer free prize winner click money credit loan casino deal".split(),
    "ham": "meeting project review build release notes agenda patch thanks lunch report team".split(),
}
COMMON = "the a and to of for you your this is on with".split()


class Gen:
    def __init__(self, root, seed=7, to="you@here.example"):
        self.root, self.to, self.rnd = root, to, random.Random(seed)

    def mail(self, kind, tag, extra=""):
        """A message of class kind with Message-ID <tag@gen.example>;
        extra: header lines ("Name: value\\n") added after the Subject."""
        words = WORDS[kind]
        body = " ".join(self.rnd.choice(words + COMMON) for _ in range(50))
        subj = " ".join(self.rnd.choice(words) for _ in range(4))
        return ("Message-ID: <%s@gen.example>\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n"
                "From: %s@%s.example\nTo: %s\n"
                "Subject: %s\n%s\n%s\n" % (tag, kind, kind, self.to, subj, extra, body))

    def write(self, name, kind, tag, extra=""):
        with open(os.path.join(self.root, name), "w") as f:
            f.write(self.mail(kind, tag, extra))

    def corpus(self, n=40):
        """n messages of each class in spam/ and ham/, and one probe of each
        (never learned) as probe-spam.eml and probe-ham.eml."""
        for kind in ("spam", "ham"):
            os.makedirs(os.path.join(self.root, kind))
            for i in range(n):
                self.write(os.path.join(kind, "%02d.eml" % i), kind, "%s%d" % (kind, i))
            self.write("probe-%s.eml" % kind, kind, "probe-" + kind)

    def big(self, name):
        """A message of about 300 KB, for size limits."""
        with open(os.path.join(self.root, name), "w") as f:
            f.write("Subject: big\n\n" + ("y" * 99 + "\n") * 3000)
