/* SCAFFOLD: replaced by the runbottle work. */
int rb_os_placeholder;
