export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.org GIT_COMMITTER_NAME=C \
    GIT_COMMITTER_EMAIL=c@example.org GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
git init -q -b main origin
printf 'one\n' > origin/f
git -C origin add f && git -C origin commit -q -m first
git clone -q origin clone
printf 'two\n' >> clone/f
git -C clone commit -q -am second
git -C clone log --format='%H %an %s'
git -C clone cat-file -p HEAD:f
git -C clone status --short --branch
git --version
