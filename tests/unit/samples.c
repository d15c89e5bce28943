/*
 * samples.c: the messages of samples.h.
 */
#include "samples.h"

const char *const sample_spams[SAMPLES] = {
    "Subject: cheap meds online\r\nFrom: deals@pharma.example\r\n\r\n"
    "Buy cheap meds now, no prescription, best price guaranteed.\r\n",
    "Subject: win a free prize\r\nFrom: promo@win.example\r\n\r\n"
    "You have won a free prize, click now to claim your cash reward.\r\n",
    "Subject: lowest price pills\r\nFrom: shop@pills.example\r\n\r\n"
    "Order pills online, cheap price, free shipping, click now.\r\n",
};

const char *const sample_hams[SAMPLES] = {
    "Subject: meeting notes\r\nFrom: alice@work.example\r\n\r\n"
    "Here are the notes from the project meeting; the review is on Monday.\r\n",
    "Subject: build failure on main\r\nFrom: ci@work.example\r\n\r\n"
    "The nightly build failed in the parser tests; see the log attached.\r\n",
    "Subject: lunch on friday\r\nFrom: bob@work.example\r\n\r\n"
    "Shall we meet for lunch on Friday after the project review?\r\n",
};
